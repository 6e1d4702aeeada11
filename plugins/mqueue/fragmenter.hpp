// Splitting the frame stream into POSIX queue messages and reading it back.
//
// A queue message holds at most mq_msgsize bytes (8192 by default on Linux),
// a frame up to the hub's max_frame_size (1 MiB + header by default). So a
// frame travels as one or more messages: each message carries the next bytes
// of one frame followed by a one-byte trailer saying what it is. The trailer
// sits at the end, not the front, so a receiver can mq_receive messages back
// to back into one buffer and simply step over each trailer: the next message
// overwrites it and the payload bytes end up contiguous without a copy.
//
// Every message of a connection is sent with the same priority (see
// docs/transports/mqueue.md, "Priorities"), so the queue's FIFO order is the
// stream's order and reassembly is concatenation. The trailer marks the last
// fragment of each frame, which lets the receiver check that a frame was not
// cut short, and tells control messages (welcome, refuse, goodbye) apart from
// data. Pure logic, no system calls: unit-tested in tests/unit/test_mqueue_fragmenter.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ipchub::mq {

enum class Kind : uint8_t {
    more = 0x01,    // frame bytes; the frame continues in the next message
    end = 0x02,     // frame bytes; the last (or only) fragment of a frame
    welcome = 0x10, // hub -> client, first message on a new connection
    refuse = 0x11,  // hub -> client, instead of welcome (shutting down, refused)
    goodbye = 0x12, // either direction: orderly end of the connection, always the last message
};

constexpr size_t kTrailerSize = 1;
// The smallest queue message size the transport works with: room for the
// control messages and a useful amount of data per fragment.
constexpr size_t kMinMessageSize = 64;

// Frame bytes one message of `msg_size` bytes carries.
constexpr size_t fragment_capacity(size_t msg_size) { return msg_size - kTrailerSize; }

// Messages a frame of `frame_len` bytes needs (a zero-length frame still needs one).
constexpr size_t fragment_count(size_t frame_len, size_t msg_size) {
    size_t cap = fragment_capacity(msg_size);
    return frame_len == 0 ? 1 : (frame_len + cap - 1) / cap;
}

// Builds into `msg` (capacity msg_size) the next message for the remaining
// `rest_len` bytes of a frame at `rest`. Returns the message length;
// *taken is how many frame bytes it carries. The message is the frame's last
// fragment exactly when it carries all of `rest`.
inline size_t build_fragment(const uint8_t *rest, size_t rest_len, uint8_t *msg, size_t msg_size, size_t *taken) {
    size_t cap = fragment_capacity(msg_size);
    size_t n = rest_len < cap ? rest_len : cap;
    if (n) std::memcpy(msg, rest, n);
    msg[n] = static_cast<uint8_t>(n == rest_len ? Kind::end : Kind::more);
    *taken = n;
    return n + kTrailerSize;
}

// Builds a control message: `body` followed by the trailer `kind`.
inline size_t build_control(Kind kind, const void *body, size_t body_len, uint8_t *msg) {
    if (body_len) std::memcpy(msg, body, body_len);
    msg[body_len] = static_cast<uint8_t>(kind);
    return body_len + kTrailerSize;
}

// Reads messages back in order and checks that they form whole frames.
class Reassembler {
public:
    struct Piece {
        Kind kind;
        size_t len; // payload bytes before the trailer (frame bytes for more/end)
    };

    // Classifies one received message of `msg_len` bytes. Returns false for a
    // message that cannot be ours (empty, unknown trailer, control message in
    // the middle of a frame): the connection is then broken.
    bool accept(const uint8_t *msg, size_t msg_len, Piece &out) {
        if (msg_len < kTrailerSize) return false;
        out.len = msg_len - kTrailerSize;
        out.kind = static_cast<Kind>(msg[out.len]);
        switch (out.kind) {
        case Kind::more:
            mid_frame_ = true;
            return true;
        case Kind::end:
            mid_frame_ = false;
            ++frames_;
            return true;
        case Kind::welcome:
        case Kind::refuse:
        case Kind::goodbye:
            return !mid_frame_;
        }
        return false;
    }

    bool mid_frame() const { return mid_frame_; } // a frame was started and not finished
    uint64_t frames() const { return frames_; }   // complete frames seen

private:
    bool mid_frame_ = false;
    uint64_t frames_ = 0;
};

} // namespace ipchub::mq
