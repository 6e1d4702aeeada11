// mqueue transport: packing the byte stream into queue messages, reading it
// back, and the queue size ladder under a short budget
// (plugins/mqueue/packer.hpp, queue_open.hpp; pure logic, no queues).
#include "packer.hpp"
#include "queue_open.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

using namespace ipchub::mqueue;

namespace {

std::vector<uint8_t> pattern(size_t n, unsigned seed) {
    std::vector<uint8_t> v(n);
    uint32_t x = seed * 2654435761u + 1;
    for (auto &b : v) {
        x = x * 1103515245u + 12345u;
        b = uint8_t(x >> 16); // includes NULs
    }
    return v;
}

using Message = std::vector<uint8_t>;

// Packs frames the way both halves send them; `room` messages fit before the
// queue is "full" (then sending resumes with a fresh cursor over the rest,
// as after a short hub_send).
std::vector<Message> pack(const std::vector<std::vector<uint8_t>> &frames, size_t msg_size) {
    std::vector<iovec> iov;
    for (const auto &f : frames) iov.push_back({const_cast<uint8_t *>(f.data()), f.size()});
    std::vector<Message> out;
    IovCursor cur(iov.data(), iov.size());
    while (!cur.done()) {
        Message m(msg_size);
        size_t taken = 0;
        size_t len = build_data(cur, m.data(), msg_size, &taken);
        REQUIRE(len <= msg_size);
        REQUIRE(len == taken + kTrailerSize);
        REQUIRE(taken > 0);
        m.resize(len);
        out.push_back(std::move(m));
        cur.advance(taken);
    }
    return out;
}

std::vector<uint8_t> concat(const std::vector<std::vector<uint8_t>> &frames) {
    std::vector<uint8_t> all;
    for (const auto &f : frames) all.insert(all.end(), f.begin(), f.end());
    return all;
}

// Reads messages back: concatenation of the data payloads.
std::vector<uint8_t> unpack(const std::vector<Message> &messages) {
    std::vector<uint8_t> stream;
    for (const auto &m : messages) {
        Piece p{};
        REQUIRE(classify(m.data(), m.size(), p));
        REQUIRE(p.kind == Kind::data);
        stream.insert(stream.end(), m.begin(), m.begin() + long(p.len));
    }
    return stream;
}

} // namespace

TEST_CASE("packer: packs frames of every edge size into full messages and reads them back") {
    const size_t frame_sizes[] = {0, 1, 8191, 8192, 8193, 65536, 1048576};
    const size_t message_sizes[] = {64, 100, 1024, 4096, 8192};
    for (size_t msg_size : message_sizes) {
        for (size_t size : frame_sizes) {
            CAPTURE(msg_size);
            CAPTURE(size);
            std::vector<std::vector<uint8_t>> frames = {pattern(size, unsigned(size + msg_size))};
            auto messages = pack(frames, msg_size);
            CHECK(messages.size() == (size + data_capacity(msg_size) - 1) / data_capacity(msg_size));
            // Every message but the last is full: no wasted messages.
            for (size_t i = 0; i + 1 < messages.size(); ++i) CHECK(messages[i].size() == msg_size);
            CHECK(unpack(messages) == frames[0]);
        }
    }
}

TEST_CASE("packer: many small frames share a message, in order, with their bytes intact") {
    std::vector<std::vector<uint8_t>> frames;
    for (unsigned i = 0; i < 1000; ++i) frames.push_back(pattern(24 + i % 50, i));
    frames.push_back({}); // empty iovecs anywhere are skipped
    frames.insert(frames.begin() + 3, std::vector<uint8_t>{});
    auto all = concat(frames);
    auto messages = pack(frames, 4096);
    CHECK(messages.size() == (all.size() + 4094) / 4095); // packed, not one message per frame
    CHECK(unpack(messages) == all);
}

TEST_CASE("packer: a stream of mixed frames keeps order across message borders") {
    std::vector<std::vector<uint8_t>> frames;
    const size_t sizes[] = {24, 8193, 0, 1, 300, 65536, 8191, 2};
    unsigned seed = 1;
    for (size_t s : sizes) frames.push_back(pattern(s, seed++));
    CHECK(unpack(pack(frames, 256)) == concat(frames));
}

TEST_CASE("packer: a cursor moves only past what was sent") {
    auto a = pattern(10, 1), b = pattern(5, 2);
    iovec iov[2] = {{a.data(), a.size()}, {b.data(), b.size()}};
    IovCursor cur(iov, 2);
    uint8_t msg[8];
    size_t taken = 0;
    // Built but "not sent" (queue full): building again gives the same bytes.
    build_data(cur, msg, sizeof msg, &taken);
    CHECK(taken == 7);
    Message first(msg, msg + taken);
    build_data(cur, msg, sizeof msg, &taken);
    CHECK(Message(msg, msg + taken) == first);
    cur.advance(taken);
    build_data(cur, msg, sizeof msg, &taken);
    CHECK(taken == 7); // 3 bytes of a, 4 of b
    CHECK(Message(msg, msg + 3) == Message(a.begin() + 7, a.end()));
    cur.advance(taken);
    CHECK_FALSE(cur.done());
    build_data(cur, msg, sizeof msg, &taken);
    CHECK(taken == 1);
    cur.advance(taken);
    CHECK(cur.done());
}

TEST_CASE("packer: control messages are told apart from data") {
    uint8_t msg[kMinMessageSize];
    Piece p{};
    uint32_t body = 0xdeadbeef;
    size_t len = build_control(Kind::welcome, &body, sizeof body, msg);
    REQUIRE(classify(msg, len, p));
    CHECK(p.kind == Kind::welcome);
    CHECK(p.len == sizeof body);
    len = build_control(Kind::goodbye, nullptr, 0, msg);
    REQUIRE(classify(msg, len, p));
    CHECK(p.kind == Kind::goodbye);
    CHECK(p.len == 0);
    // Empty messages and unknown trailers are not ours.
    CHECK_FALSE(classify(msg, 0, p));
    uint8_t junk[2] = {'x', 0x7f};
    CHECK_FALSE(classify(junk, sizeof junk, p));
}

TEST_CASE("packer: the default queues leave room for many clients in the default budget") {
    const long budget = 819200; // RLIMIT_MSGQUEUE default
    long per_client = 2 * queue_budget_bytes(QueueSize{});
    CHECK(budget / per_client >= 20); // >= 16 clients plus headroom for others
}

TEST_CASE("packer: a short budget shrinks a queue step by step down to a floor") {
    for (QueueSize start : {QueueSize{}, QueueSize{10, 8192}, QueueSize{65536, 16 * 1024 * 1024}, QueueSize{1, 64}}) {
        CAPTURE(start.max_messages);
        CAPTURE(start.message_size);
        QueueSize s = start;
        int steps = 0;
        for (;;) {
            QueueSize next = next_smaller(s);
            if (next.max_messages == s.max_messages && next.message_size == s.message_size) break;
            // Every step about halves the cost (the per-slot overhead stays)
            // and stays usable.
            CHECK(queue_budget_bytes(next) < queue_budget_bytes(s));
            CHECK(queue_budget_bytes(next) * 2 <= queue_budget_bytes(s) + 2 * 96 * s.max_messages);
            CHECK(next.max_messages >= 1);
            CHECK(next.message_size >= long(kMinMessageSize));
            s = next;
            REQUIRE(++steps < 64);
        }
        CHECK(s.max_messages == kFloorMessages);
        CHECK(s.message_size == kFloorMessageSize);
        CHECK(queue_budget_bytes(s) <= 200);
    }
}
