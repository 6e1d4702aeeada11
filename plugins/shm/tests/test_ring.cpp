// The shm transport's ring (plugins/shm/ring.hpp) on ordinary memory, one
// thread: boundaries, wrap-around at every alignment, a randomised model,
// messages larger than the ring, a corrupt peer.
#include "ring.hpp"

#include <doctest/doctest.h>

#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

using ipchub::shm::kRecordHeader;
using ipchub::shm::Ring;
using ipchub::shm::RingHeader;

namespace {

// A ring in private memory, with guard bytes after the data area so a write
// past its end is caught.
struct TestRing {
    static constexpr size_t kGuard = 64;
    std::unique_ptr<RingHeader> header = std::make_unique<RingHeader>();
    std::vector<uint8_t> data;
    Ring ring;

    explicit TestRing(uint64_t capacity, uint64_t start = 0) : data(capacity + kGuard, 0xEE) {
        REQUIRE(ipchub::shm::init_ring_header(header.get(), capacity, false, start) == 0);
        ring = Ring(header.get(), data.data(), capacity);
    }
    ~TestRing() {
        sem_destroy(&header->items);
        sem_destroy(&header->spaces);
    }
    bool guard_intact() const {
        for (size_t i = data.size() - kGuard; i < data.size(); ++i)
            if (data[i] != 0xEE) return false;
        return true;
    }
    int64_t write(const std::string &s) {
        iovec iov{const_cast<char *>(s.data()), s.size()};
        return ring.try_write(&iov, 1);
    }
    int64_t write_stream(const std::string &s) {
        iovec iov{const_cast<char *>(s.data()), s.size()};
        return ring.write_stream(&iov, 1);
    }
    std::string read(size_t cap = 1 << 20) {
        std::string out(cap, '\0');
        int64_t n = ring.read_record(out.data(), cap);
        REQUIRE(n >= 0);
        out.resize(size_t(n));
        return out;
    }
};

std::string pattern(size_t n, unsigned seed) {
    std::string s(n, '\0');
    for (size_t i = 0; i < n; ++i) s[i] = char((i * 131 + seed * 7 + (i >> 8)) & 0xff);
    return s;
}

} // namespace

TEST_CASE("ring: starts empty and reads nothing") {
    TestRing t(4096);
    CHECK(t.ring.empty());
    CHECK(t.ring.used() == 0);
    CHECK(t.ring.free_space() == 4096);
    char buf[16];
    CHECK(t.ring.read_record(buf, sizeof buf) == 0);
    CHECK(t.ring.read_stream(buf, sizeof buf) == 0);
    CHECK(t.write("") == 0); // an empty record is never written
    CHECK(t.ring.empty());
}

TEST_CASE("ring: full refuses, exact fit is taken, space returns after a read") {
    TestRing t(4096);
    std::string big = pattern(4096 - kRecordHeader, 1); // exactly the whole ring
    CHECK(t.write(big) == int64_t(big.size()));
    CHECK(t.ring.free_space() == 0);
    CHECK(t.write("x") == 0); // full: nothing written
    CHECK(t.write_stream("x") == 0);
    CHECK(t.read() == big);
    CHECK(t.ring.empty());

    // Fill with records until one more byte would not fit, then exact fit.
    std::string a = pattern(1000, 2);
    for (int i = 0; i < 4; ++i) CHECK(t.write(a) == 1000); // 4 * 1004 = 4016 used
    CHECK(t.ring.free_space() == 80);
    CHECK(t.write(pattern(77, 3)) == 0); // 81 needed
    CHECK(t.write(pattern(76, 3)) == 76); // exactly 80
    CHECK(t.ring.free_space() == 0);
    for (int i = 0; i < 4; ++i) CHECK(t.read() == a);
    CHECK(t.read() == pattern(76, 3));
    CHECK(t.ring.empty());
    CHECK(t.guard_intact());
}

TEST_CASE("ring: record too large for a buffer stays in place") {
    TestRing t(4096);
    CHECK(t.write(pattern(100, 4)) == 100);
    char small[50];
    CHECK(t.ring.read_record(small, sizeof small) == -EMSGSIZE);
    CHECK(t.read() == pattern(100, 4));
}

TEST_CASE("ring: wrap-around at every alignment, records and length words split anywhere") {
    constexpr uint64_t cap = 4096;
    for (uint64_t start = cap - 80; start < cap + 8; ++start) { // every offset near the end, counters past it
        for (size_t len : {size_t(1), size_t(3), size_t(4), size_t(5), size_t(63), size_t(100), size_t(1000),
                           size_t(cap - kRecordHeader)}) {
            TestRing t(cap, start);
            std::string m = pattern(len, unsigned(start + len));
            REQUIRE(t.write(m) == int64_t(len));
            REQUIRE(t.read() == m);
            REQUIRE(t.guard_intact());
            // and the byte-stream path with a split partial read
            REQUIRE(t.write_stream(m) == int64_t(len));
            std::string got(len, '\0');
            size_t half = len / 2;
            if (half) REQUIRE(t.ring.read_stream(got.data(), half) == int64_t(half));
            REQUIRE(t.ring.read_stream(got.data() + half, len - half) == int64_t(len - half));
            REQUIRE(got == m);
            REQUIRE(t.ring.empty());
        }
    }
    // Every alignment of the whole small ring: start at each offset 0..cap-1.
    constexpr uint64_t small = 4096;
    std::string m = pattern(333, 9);
    for (uint64_t start = 0; start < small; ++start) {
        TestRing t(small, start);
        REQUIRE(t.write(m) == 333);
        REQUIRE(t.write(m) == 333);
        REQUIRE(t.read() == m);
        REQUIRE(t.read() == m);
    }
}

TEST_CASE("ring: 64-bit counters wrap past 2^64") {
    TestRing t(4096, UINT64_MAX - 10);
    std::string m = pattern(3000, 5);
    for (int i = 0; i < 10; ++i) {
        REQUIRE(t.write(m) == 3000);
        REQUIRE(t.read() == m);
    }
    CHECK(t.ring.empty());
}

TEST_CASE("ring: variable sizes against a model (seeded)") {
    std::mt19937_64 rng(20240601);
    TestRing t(8192, rng());
    std::deque<std::string> model;
    size_t model_bytes = 0;
    unsigned seq = 0;
    for (int op = 0; op < 200000; ++op) {
        if (rng() % 2) {
            size_t len = 1 + size_t(rng() % (rng() % 4 == 0 ? 8188 : 200));
            std::string m = pattern(len, seq);
            int64_t n = t.write(m);
            bool fits = model_bytes + kRecordHeader + len <= 8192;
            REQUIRE(n == (fits ? int64_t(len) : 0));
            if (fits) {
                model.push_back(m);
                model_bytes += kRecordHeader + len;
                ++seq;
            }
        } else {
            std::string got = t.read();
            if (model.empty()) {
                REQUIRE(got.empty());
            } else {
                REQUIRE(got == model.front());
                model_bytes -= kRecordHeader + model.front().size();
                model.pop_front();
            }
        }
        REQUIRE(t.ring.used() == int64_t(model_bytes));
    }
    CHECK(t.guard_intact());
}

TEST_CASE("ring: byte stream with random cuts against a model (seeded)") {
    std::mt19937_64 rng(77);
    TestRing t(4096, rng());
    std::string sent, received;
    for (int op = 0; op < 100000; ++op) {
        if (rng() % 2) {
            std::string m = pattern(1 + size_t(rng() % 3000), unsigned(op));
            int64_t n = t.write_stream(m);
            REQUIRE(n >= 0);
            sent.append(m, 0, size_t(n));
        } else {
            std::string buf(1 + size_t(rng() % 5000), '\0');
            int64_t n = t.ring.read_stream(buf.data(), buf.size());
            REQUIRE(n >= 0);
            received.append(buf, 0, size_t(n));
        }
        REQUIRE(received.size() <= sent.size());
        if (sent.size() > (1 << 20)) { // keep memory small: compare and forget
            std::string buf(8192, '\0');
            int64_t n;
            while ((n = t.ring.read_stream(buf.data(), buf.size())) > 0) received.append(buf, 0, size_t(n));
            REQUIRE(received == sent);
            sent.clear();
            received.clear();
        }
    }
    std::string buf(8192, '\0');
    int64_t n;
    while ((n = t.ring.read_stream(buf.data(), buf.size())) > 0) received.append(buf, 0, size_t(n));
    CHECK(received == sent);
}

TEST_CASE("ring: message larger than the ring: refused as a record, fragmented as a stream") {
    TestRing t(4096);
    std::string huge = pattern(3 * 4096 + 123, 11);
    CHECK(t.write(huge) == -EMSGSIZE); // can never fit as one record
    CHECK(t.write(pattern(t.ring.max_record() + 1, 1)) == -EMSGSIZE);
    // The transport's path: pieces as space frees, reassembled in order.
    std::string got;
    size_t sent = 0;
    int rounds = 0;
    while (got.size() < huge.size()) {
        iovec iov{huge.data() + sent, huge.size() - sent};
        int64_t n = sent < huge.size() ? t.ring.write_stream(&iov, 1) : 0;
        REQUIRE(n >= 0);
        sent += size_t(n);
        std::string buf(1500, '\0');
        int64_t r = t.ring.read_stream(buf.data(), buf.size());
        REQUIRE(r >= 0);
        got.append(buf, 0, size_t(r));
        REQUIRE(++rounds < 1000);
    }
    CHECK(got == huge);
}

TEST_CASE("ring: gathers iovecs into one record") {
    TestRing t(4096);
    std::string a = "head:", b(10, '\0'), c = "tail";
    iovec iov[3] = {{a.data(), a.size()}, {b.data(), b.size()}, {c.data(), c.size()}};
    CHECK(t.ring.try_write(iov, 3) == int64_t(a.size() + b.size() + c.size()));
    CHECK(t.read() == a + b + c);
}

TEST_CASE("ring: corrupted by the peer fails cleanly") {
    TestRing t(4096);
    REQUIRE(t.write("hello") == 5);
    t.data[0] = 0xff; // length word now claims far more than was written
    char buf[64];
    CHECK(t.ring.read_record(buf, sizeof buf) == -EPROTO);
    CHECK(t.ring.corrupt());
    CHECK(t.ring.read_stream(buf, sizeof buf) == -EPROTO); // sticks, even for another call
    CHECK(t.ring.used() == -EPROTO);
    CHECK(t.ring.free_space() == -EPROTO);
    CHECK(t.write("x") == -EPROTO);
}

namespace {
// The two sides of one ring in private memory, each with its own view, as
// the hub and a client have them.
struct TwoSides {
    TestRing t{4096};
    Ring producer{t.header.get(), t.data.data(), 4096};
    Ring &consumer = t.ring;
    int64_t write(const std::string &s) {
        iovec iov{const_cast<char *>(s.data()), s.size()};
        return producer.write_stream(&iov, 1);
    }
    std::string read(size_t cap = 64) {
        std::string out(cap, '\0');
        int64_t n = consumer.read_stream(out.data(), cap);
        return n < 0 ? "error " + std::to_string(n) : out.substr(0, size_t(n));
    }
};
} // namespace

TEST_CASE("ring: the consumer keeps its own head: a peer rewinding it cannot make it read a record twice") {
    TwoSides s;
    for (int i = 0; i < 3; ++i) {
        std::string record = "record " + std::to_string(i);
        REQUIRE(s.write(record) == int64_t(record.size()));
        CHECK(s.read() == record); // not the earlier ones again
        s.t.header->head.store(0); // the producer's side rewinds the shared word
    }
    CHECK(s.consumer.empty());
    CHECK(s.read() == "");
}

TEST_CASE("ring: a consumer told where the stream ends reads nothing written after it") {
    TwoSides s;
    REQUIRE(s.write("owed") == 4);
    s.consumer.end_at(s.consumer.read_position() + uint64_t(s.consumer.used()));
    REQUIRE(s.write("not owed") == 8);
    CHECK(s.read() == "owed");
    CHECK(s.consumer.used() == 0);
    CHECK(s.read() == "");
}

TEST_CASE("ring: the producer keeps its own tail: a peer moving it cannot make records overlap") {
    TwoSides s;
    REQUIRE(s.write("abc") == 3);
    s.t.header->tail.store(0); // the consumer's side scribbles on the producer's word
    CHECK(s.write("de") == 2); // the producer writes on from its own tail...
    CHECK(s.t.header->tail.load() == 2 * kRecordHeader + 5); // ...and publishes the true one
    CHECK(s.read() == "abcde");
}

TEST_CASE("ring: a tail moving backwards is corruption, and it sticks") {
    TwoSides s;
    REQUIRE(s.write("abcdef") == 6);
    CHECK(s.consumer.used() == int64_t(kRecordHeader + 6));
    s.t.header->tail.store(kRecordHeader + 2); // backwards, but still ahead of the head
    CHECK(s.consumer.used() == -EPROTO);
    s.t.header->tail.store(kRecordHeader + 6); // restored: too late
    CHECK(s.read() == "error -71");
    CHECK(s.consumer.consumer_prepare_sleep() == false); // never sleeps on it: the next read reports it
}

TEST_CASE("ring: a tail more than the ring ahead, or behind the head, is corruption") {
    for (uint64_t bad : {uint64_t(4096 + 1), uint64_t(0) - 1}) {
        CAPTURE(bad);
        TwoSides s;
        s.t.header->tail.store(bad);
        CHECK(s.consumer.used() == -EPROTO);
        CHECK(s.read() == "error -71");
    }
}

TEST_CASE("ring: a head moving backwards or past the tail is corruption for the producer") {
    {
        TwoSides s;
        REQUIRE(s.write("abcdef") == 6);
        REQUIRE(s.read() == "abcdef");
        CHECK(s.producer.free_space() == 4096);
        s.t.header->head.store(3); // backwards
        CHECK(s.producer.free_space() == -EPROTO);
        CHECK(s.write("x") == -EPROTO);
    }
    {
        TwoSides s;
        REQUIRE(s.write("abcdef") == 6);
        s.t.header->head.store(kRecordHeader + 7); // past what was written
        CHECK(s.producer.free_space() == -EPROTO);
        CHECK(s.producer.producer_prepare_sleep(kRecordHeader + 1) == false); // never sleeps on it
    }
}

TEST_CASE("ring: a length word shorter than a record or past the tail is corruption") {
    TwoSides s;
    REQUIRE(s.write("hello") == 5);
    s.t.data[0] = 0; // a zero length
    CHECK(s.read() == "error -71");
    TwoSides tiny;
    tiny.t.header->tail.store(3); // less than a length word was "written"
    CHECK(tiny.read() == "error -71");
}

TEST_CASE("ring: sleep flags: prepare, wake claimed once") {
    TestRing t(4096);
    CHECK(t.ring.consumer_prepare_sleep()); // empty: may sleep
    REQUIRE(t.write("a") == 1);
    CHECK(t.ring.consumer_needs_wake());  // the sleeper is woken...
    CHECK(!t.ring.consumer_needs_wake()); // ...once
    CHECK(!t.ring.consumer_prepare_sleep()); // data there: do not sleep
    CHECK(!t.ring.consumer_needs_wake());

    std::string fill = pattern(4096 - kRecordHeader - 5, 1);
    REQUIRE(t.write(fill) == int64_t(fill.size()));
    CHECK(t.ring.producer_prepare_sleep(kRecordHeader + 1)); // full
    CHECK(t.read() == "a");
    CHECK(t.ring.producer_needs_wake());
    CHECK(!t.ring.producer_needs_wake());
    CHECK(!t.ring.producer_prepare_sleep(kRecordHeader + 1)); // 5 bytes free now
}

TEST_CASE("ring: size rule") {
    CHECK(ipchub::shm::valid_ring_bytes(4096));
    CHECK(ipchub::shm::valid_ring_bytes(1 << 20));
    CHECK(!ipchub::shm::valid_ring_bytes(4095));
    CHECK(!ipchub::shm::valid_ring_bytes(3 << 20));
    CHECK(!ipchub::shm::valid_ring_bytes(2048));
    RingHeader h;
    CHECK(ipchub::shm::init_ring_header(&h, 5000, false) == -EINVAL);
}
