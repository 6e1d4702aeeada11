// Frame encoding/decoding and stream reassembly (sdk/src/frame.*).
#include "frame.hpp"

#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

using namespace ipchub;

namespace {

std::string encode(uint8_t type, uint16_t flags, uint64_t id, std::string_view channel, std::string_view payload) {
    ByteBuffer b;
    append_frame(b, type, flags, id, channel, payload);
    return std::string(reinterpret_cast<const char *>(b.data()), b.size());
}

struct Got {
    uint8_t type;
    uint64_t id;
    std::string channel, payload;
};

std::vector<Got> feed_all(FrameReader &r, const std::string &bytes, size_t chunk, bool *ok = nullptr) {
    std::vector<Got> out;
    bool good = true;
    for (size_t i = 0; i < bytes.size() && good; i += chunk) {
        size_t n = std::min(chunk, bytes.size() - i);
        good = r.feed(bytes.data() + i, n, [&](const FrameView &f) {
            out.push_back({f.header.type, f.header.id, std::string(f.channel), std::string(f.payload)});
        });
    }
    if (ok) *ok = good;
    return out;
}

} // namespace

TEST_CASE("frame: header layout is little-endian and 24 bytes") {
    std::string f = encode(IPCHUB_PUBLISH, IPCHUB_FLAG_ACK, 0x0102030405060708ull, "ch", "xyz");
    REQUIRE(f.size() == IPCHUB_FRAME_HEADER_SIZE + 2 + 3);
    const auto *p = reinterpret_cast<const uint8_t *>(f.data());
    CHECK(p[0] == 0x49);
    CHECK(p[1] == 0x48);
    CHECK(p[2] == IPCHUB_PROTOCOL_VERSION);
    CHECK(p[3] == IPCHUB_PUBLISH);
    CHECK(p[4] == 1);
    CHECK(p[6] == 2);
    CHECK(p[8] == 3);
    CHECK(p[16] == 0x08);
    CHECK(p[23] == 0x01);
    CHECK(f.substr(24) == "chxyz");
}

TEST_CASE("frame: round trip keeps binary payloads byte-exact") {
    std::string payload("a\0b\0\xff\n", 6);
    std::string f = encode(IPCHUB_PUBLISH, 0, 42, "bin", payload);
    FrameReader r(1024);
    auto got = feed_all(r, f, f.size());
    REQUIRE(got.size() == 1);
    CHECK(got[0].type == IPCHUB_PUBLISH);
    CHECK(got[0].id == 42);
    CHECK(got[0].channel == "bin");
    CHECK(got[0].payload == payload);
}

TEST_CASE("frame: empty payload and empty channel") {
    FrameReader r(16);
    auto got = feed_all(r, encode(IPCHUB_STATS, 0, 7, "", ""), 100);
    REQUIRE(got.size() == 1);
    CHECK(got[0].payload.empty());
    CHECK(got[0].channel.empty());
}

TEST_CASE("frame: a stream cut at every possible size reassembles identically") {
    std::string stream;
    std::mt19937 rng(12345);
    std::vector<std::string> payloads;
    for (int i = 0; i < 50; ++i) {
        std::string p(rng() % 300, '\0');
        for (auto &c : p) c = char(rng());
        payloads.push_back(p);
        std::string channel = "c"; // appended: GCC 12 -Wrestrict misfires on "c" + string&& at -O2 (bug 105329)
        channel += std::to_string(i % 7);
        stream += encode(IPCHUB_PUBLISH, 0, uint64_t(i), channel, p);
    }
    for (size_t chunk : {size_t(1), size_t(2), size_t(23), size_t(24), size_t(25), size_t(97), size_t(4096), stream.size()}) {
        FrameReader r(1024);
        bool ok = false;
        auto got = feed_all(r, stream, chunk, &ok);
        CHECK(ok);
        REQUIRE(got.size() == payloads.size());
        for (size_t i = 0; i < got.size(); ++i) {
            CHECK(got[i].id == i);
            CHECK(got[i].payload == payloads[i]);
        }
        CHECK(r.pending() == 0);
    }
}

TEST_CASE("frame: truncated input waits for more and delivers nothing yet") {
    std::string f = encode(IPCHUB_PUBLISH, 0, 1, "ch", "payload");
    FrameReader r(1024);
    auto got = feed_all(r, f.substr(0, f.size() - 1), 1000);
    CHECK(got.empty());
    CHECK(r.pending() == f.size() - 1);
    bool ok = r.feed(f.data() + f.size() - 1, 1, [&](const FrameView &v) { got.push_back({v.header.type, v.header.id, "", ""}); });
    CHECK(ok);
    CHECK(got.size() == 1);
}

TEST_CASE("frame: oversized payload is refused from the header alone") {
    std::string f = encode(IPCHUB_PUBLISH, 0, 1, "ch", std::string(101, 'x'));
    FrameReader r(100);
    bool ok = true;
    auto got = feed_all(r, f.substr(0, IPCHUB_FRAME_HEADER_SIZE), 1000, &ok);
    CHECK_FALSE(ok);
    CHECK(got.empty());
    CHECK(r.error_code() == IPCHUB_ERR_TOO_LARGE);
    CHECK(r.error().find("101 bytes exceeds the limit of 100") != std::string::npos);
    // Exactly at the limit is fine.
    FrameReader exact(101);
    CHECK(feed_all(exact, f, 7).size() == 1);
}

TEST_CASE("frame: malformed headers are refused with a reason") {
    std::string good = encode(IPCHUB_PUBLISH, 0, 1, "ch", "x");
    struct Case {
        size_t offset;
        uint8_t value;
        const char *why;
    } cases[] = {{0, 0x00, "bad magic"},
                 {2, 9, "protocol version 9"},
                 {3, 0, "unknown frame type 0"},
                 {3, 200, "unknown frame type 200"},
                 {12, 1, "reserved"},
                 {6, 65, "channel name of 65 bytes"}};
    for (auto &c : cases) {
        std::string bad = good;
        bad[c.offset] = char(c.value);
        FrameReader r(1024);
        bool ok = true;
        feed_all(r, bad, bad.size(), &ok);
        CAPTURE(c.why);
        CHECK_FALSE(ok);
        CHECK(r.error_code() == IPCHUB_ERR_MALFORMED);
        CHECK(r.error().find(c.why) != std::string::npos);
        // The reader stays failed: a broken stream cannot be resynchronised.
        CHECK_FALSE(r.feed(good.data(), good.size(), [](const FrameView &) { FAIL("no frame after an error"); }));
    }
}

TEST_CASE("frame: channel names") {
    CHECK(is_valid_channel("test"));
    CHECK(is_valid_channel("A-z_0.9"));
    CHECK(is_valid_channel(std::string(64, 'a')));
    CHECK_FALSE(is_valid_channel(""));
    CHECK_FALSE(is_valid_channel(std::string(65, 'a')));
    CHECK_FALSE(is_valid_channel("with space"));
    CHECK_FALSE(is_valid_channel("slash/no"));
    CHECK_FALSE(is_valid_channel(std::string("nul\0", 4)));
    CHECK_FALSE(is_valid_channel("ünïcode"));
    CHECK(channel_rule().find("64") != std::string::npos);
}

TEST_CASE("frame: iovecs per frame for message transports, one for streams") {
    ByteBuffer b;
    append_frame(b, IPCHUB_DATA, 0, 1, "a", "1");
    append_frame(b, IPCHUB_DATA, 0, 2, "b", "22");
    append_frame(b, IPCHUB_DATA, 0, 3, "c", "");
    iovec iov[8];
    size_t offered = 0;
    CHECK(frame_iovecs(b, true, iov, 8, &offered) == 3);
    CHECK(iov[0].iov_len == 26);
    CHECK(iov[1].iov_len == 27);
    CHECK(iov[2].iov_len == 25);
    CHECK(offered == b.size());
    CHECK(frame_iovecs(b, true, iov, 2, &offered) == 2);
    CHECK(offered == 53);
    CHECK(frame_iovecs(b, false, iov, 8, &offered) == 1);
    CHECK(offered == b.size());
}

TEST_CASE("byte buffer: reuses its storage instead of growing without bound") {
    ByteBuffer b;
    std::string chunk(1000, 'x');
    for (int i = 0; i < 10000; ++i) {
        b.append(chunk.data(), chunk.size());
        b.consume(chunk.size() / 2);
        if (b.size() > 4000) b.consume(b.size());
    }
    CHECK(b.size() <= 4000);
    CHECK(b.capacity() <= 16384); // consumed space was reused, not leaked
    b.consume(b.size());
    b.append("abc", 3);
    CHECK(std::string(reinterpret_cast<const char *>(b.data()), b.size()) == "abc");
}

TEST_CASE("frame: frame_limit and message_limit, the one formula for hub, client and bench") {
    constexpr uint32_t overhead = IPCHUB_FRAME_HEADER_SIZE + IPCHUB_CHANNEL_MAX;
    CHECK(frame_limit(1 << 20) == (1u << 20) + overhead);
    CHECK(frame_limit(10) == kControlPayloadMax + overhead); // control frames still fit
    CHECK(frame_limit(1 << 20, 8192) == 8192);               // the transport's own limit wins when smaller
    CHECK(frame_limit(100, 1 << 20) == kControlPayloadMax + overhead);
    CHECK(frame_limit(UINT32_MAX) == UINT32_MAX);            // saturates
    CHECK(message_limit(1 << 20) == 1u << 20);
    CHECK(message_limit(1 << 20, 8192) == 8192 - overhead);
    CHECK(message_limit(100, 8192) == 100);
    CHECK(message_limit(1 << 20, overhead) == 0);
}
