// The FIFO transport's registration record and file names.
#include "registration.hpp"

#include <doctest/doctest.h>

using namespace ipchub::fifo;

TEST_CASE("registration: registration record round-trips and fits in PIPE_BUF") {
    Registration r;
    r.pid = 123456;
    r.serial = 7;
    r.nonce = 0x0102030405060708ull;
    unsigned char rec[kRecordSize];
    encode(r, rec);
    Registration back;
    REQUIRE(decode(rec, back));
    CHECK(back.pid == r.pid);
    CHECK(back.serial == r.serial);
    CHECK(back.nonce == r.nonce);
    CHECK(rec[16] == 0x08); // little-endian on every host
    CHECK(kRecordSize <= PIPE_BUF);
}

TEST_CASE("registration: malformed registration records are refused") {
    Registration r;
    r.pid = 1;
    unsigned char rec[kRecordSize];
    encode(r, rec);
    Registration out;
    SUBCASE("wrong magic") { rec[0] = 'X'; }
    SUBCASE("other version") { rec[4] = 2; }
    SUBCASE("other size") { rec[6] = 64; }
    SUBCASE("pid 0") { rec[8] = 0; }
    SUBCASE("pid beyond pid_t") { rec[11] = 0x80; }
    CHECK_FALSE(decode(rec, out));
}

TEST_CASE("registration: names of the plugin's FIFOs are recognised, others are not") {
    uint32_t pid = 0, serial = 0;
    CHECK(classify("fifo.register") == NameKind::register_fifo);
    CHECK(classify("fifo.42.3.up", &pid, &serial) == NameKind::client_fifo);
    CHECK(pid == 42);
    CHECK(serial == 3);
    CHECK(classify("fifo.42.3.down") == NameKind::client_fifo);
    CHECK(classify(client_base("/d", 9, 1).substr(3) + ".up") == NameKind::client_fifo);
    for (const char *other : {"hub.sock", "hub.lock", "fifo.", "fifo.42", "fifo.42.up", "fifo.42.3", "fifo.42.3.upx",
                              "fifo.x.3.up", "fifo.42.3.up.down", "fifo.99999999999.1.up", "xfifo.1.2.up"})
        CHECK_MESSAGE(classify(other) == NameKind::other, other);
}
