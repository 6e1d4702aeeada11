// mqueue transport: cutting frames into queue messages and reading them back
// (plugins/mqueue/fragmenter.hpp; pure logic, no queues).
#include "../../plugins/mqueue/fragmenter.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

using namespace ipchub::mq;

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

// Fragments a frame the way both halves send it.
std::vector<Message> fragment(const std::vector<uint8_t> &frame, size_t msg_size) {
    std::vector<Message> out;
    size_t off = 0;
    do {
        Message m(msg_size);
        size_t taken = 0;
        size_t len = build_fragment(frame.data() + off, frame.size() - off, m.data(), msg_size, &taken);
        REQUIRE(len <= msg_size);
        REQUIRE(len == taken + kTrailerSize);
        m.resize(len);
        out.push_back(std::move(m));
        off += taken;
    } while (off < frame.size());
    return out;
}

// Reads messages back into frames: concatenation, split at `end`.
std::vector<std::vector<uint8_t>> reassemble(const std::vector<Message> &messages, Reassembler &r) {
    std::vector<std::vector<uint8_t>> frames;
    std::vector<uint8_t> current;
    for (const auto &m : messages) {
        Reassembler::Piece p{};
        REQUIRE(r.accept(m.data(), m.size(), p));
        REQUIRE((p.kind == Kind::more || p.kind == Kind::end));
        current.insert(current.end(), m.begin(), m.begin() + long(p.len));
        if (p.kind == Kind::end) {
            frames.push_back(std::move(current));
            current.clear();
        }
    }
    CHECK(current.empty());
    return frames;
}

} // namespace

TEST_CASE("mqueue: fragments and reassembles frames of every edge size") {
    const size_t frame_sizes[] = {0, 1, 8191, 8192, 8193, 65536, 1048576};
    const size_t message_sizes[] = {64, 100, 1024, 8192};
    for (size_t msg_size : message_sizes) {
        for (size_t size : frame_sizes) {
            CAPTURE(msg_size);
            CAPTURE(size);
            auto frame = pattern(size, unsigned(size + msg_size));
            auto messages = fragment(frame, msg_size);
            CHECK(messages.size() == fragment_count(size, msg_size));
            // Every fragment but the last is full: no wasted messages.
            for (size_t i = 0; i + 1 < messages.size(); ++i) CHECK(messages[i].size() == msg_size);
            Reassembler r;
            auto frames = reassemble(messages, r);
            REQUIRE(frames.size() == 1);
            CHECK(frames[0] == frame);
            CHECK(r.frames() == 1);
            CHECK_FALSE(r.mid_frame());
        }
    }
}

TEST_CASE("mqueue: fragment counts at the boundaries of a message") {
    // 8192-byte messages carry 8191 frame bytes (one trailer byte).
    CHECK(fragment_capacity(8192) == 8191);
    CHECK(fragment_count(0, 8192) == 1);
    CHECK(fragment_count(1, 8192) == 1);
    CHECK(fragment_count(8191, 8192) == 1);
    CHECK(fragment_count(8192, 8192) == 2);
    CHECK(fragment_count(8193, 8192) == 2);
    CHECK(fragment_count(1048576, 8192) == 129);
    CHECK(fragment_count(1048576 + 24 + 64, 8192) == 129);
}

TEST_CASE("mqueue: a stream of frames keeps order and boundaries") {
    std::vector<std::vector<uint8_t>> sent;
    std::vector<Message> wire;
    const size_t sizes[] = {24, 8193, 0, 1, 300, 65536, 8191, 2};
    unsigned seed = 1;
    for (size_t s : sizes) {
        sent.push_back(pattern(s, seed++));
        for (auto &m : fragment(sent.back(), 256)) wire.push_back(std::move(m));
    }
    Reassembler r;
    CHECK(reassemble(wire, r) == sent);
    CHECK(r.frames() == sent.size());
}

TEST_CASE("mqueue: control messages are told apart and may not cut a frame") {
    uint8_t msg[kMinMessageSize];
    Reassembler r;
    Reassembler::Piece p{};
    uint32_t body = 0xdeadbeef;
    size_t len = build_control(Kind::welcome, &body, sizeof body, msg);
    REQUIRE(r.accept(msg, len, p));
    CHECK(p.kind == Kind::welcome);
    CHECK(p.len == sizeof body);

    // A goodbye after a complete frame is fine ...
    auto frame = pattern(200, 7);
    for (auto &m : fragment(frame, 64)) REQUIRE(r.accept(m.data(), m.size(), p));
    len = build_control(Kind::goodbye, nullptr, 0, msg);
    CHECK(r.accept(msg, len, p));
    CHECK(p.kind == Kind::goodbye);

    // ... in the middle of one it is a broken stream.
    auto first = fragment(frame, 64).front();
    REQUIRE(r.accept(first.data(), first.size(), p));
    CHECK(p.kind == Kind::more);
    CHECK(r.mid_frame());
    CHECK_FALSE(r.accept(msg, len, p));

    // Empty messages and unknown trailers are not ours.
    Reassembler fresh;
    CHECK_FALSE(fresh.accept(msg, 0, p));
    uint8_t junk[2] = {'x', 0x7f};
    CHECK_FALSE(fresh.accept(junk, sizeof junk, p));
}
