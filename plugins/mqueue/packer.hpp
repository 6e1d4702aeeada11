// Packing the hub's byte stream into POSIX queue messages and reading it back.
//
// The transport is a byte stream (capabilities 0, see docs/transports/mqueue.md,
// "Packing"): a queue message carries as many of the next stream bytes as fit
// (several small frames, or a piece of a big one, or the tail of one frame and
// the head of the next), followed by a one-byte trailer saying what it is.
// Packing is what makes the queue fast: with 10-slot queues one message per
// frame meant at most 10 frames per wake-up; now a wake-up carries as many
// bytes as the queue holds, whatever the frame sizes.
//
// The trailer sits at the end, not the front, so a receiver can mq_receive
// messages back to back into one buffer and simply step over each trailer:
// the next message overwrites it and the payload bytes end up contiguous
// without a copy. Every message of a connection is sent with the same
// priority (docs, "Priorities"), so the queue's FIFO order is the stream's
// order and reading it back is concatenation. The trailer also tells control
// messages (welcome, refuse, goodbye) apart from data. Frame boundaries are
// the hub's business (its frame reader), not the transport's.
// Pure logic, no system calls: unit-tested in tests/unit/test_mqueue_fragmenter.cpp.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ipchub::mqueue {

enum class Kind : uint8_t {
    data = 0x02,    // stream bytes
    welcome = 0x10, // hub -> client, first message on a new connection
    refuse = 0x11,  // hub -> client, instead of welcome (shutting down, refused)
    goodbye = 0x12, // either direction: orderly end of the connection, always the last message
};

constexpr size_t kTrailerSize = 1;
// The smallest queue message size the transport works with: room for the
// control messages and a useful amount of data per message.
constexpr size_t kMinMessageSize = 64;

// Stream bytes one message of `msg_size` bytes carries.
constexpr size_t data_capacity(size_t msg_size) { return msg_size - kTrailerSize; }

// Walks the bytes of an iovec array. copy_out() fills a message without
// moving; advance() moves only past what was really sent, so a message the
// queue refused (full) is simply built again next time.
class IovCursor {
public:
    IovCursor(const struct iovec *iov, size_t iovcnt) : iov_(iov), cnt_(iovcnt) { skip_empty(); }

    bool done() const { return index_ == cnt_; }

    // Copies up to `cap` next bytes to `dst`; returns how many.
    size_t copy_out(uint8_t *dst, size_t cap) const {
        size_t n = 0, i = index_, off = offset_;
        while (n < cap && i < cnt_) {
            size_t avail = iov_[i].iov_len - off;
            size_t take = avail < cap - n ? avail : cap - n;
            if (take) std::memcpy(dst + n, static_cast<const uint8_t *>(iov_[i].iov_base) + off, take);
            n += take;
            off += take;
            if (off == iov_[i].iov_len) {
                ++i;
                off = 0;
            }
        }
        return n;
    }

    void advance(size_t n) {
        while (n && index_ < cnt_) {
            size_t avail = iov_[index_].iov_len - offset_;
            size_t step = avail < n ? avail : n;
            offset_ += step;
            n -= step;
            if (offset_ == iov_[index_].iov_len) {
                ++index_;
                offset_ = 0;
            }
        }
        skip_empty();
    }

private:
    void skip_empty() {
        while (index_ < cnt_ && iov_[index_].iov_len == offset_) {
            ++index_;
            offset_ = 0;
        }
    }
    const struct iovec *iov_;
    size_t cnt_;
    size_t index_ = 0, offset_ = 0;
};

// Builds into `msg` (capacity msg_size) a data message with the next bytes at
// `cur` (not moved). Returns the message length; *taken is how many stream
// bytes it carries (0: nothing left to send).
inline size_t build_data(const IovCursor &cur, uint8_t *msg, size_t msg_size, size_t *taken) {
    size_t n = cur.copy_out(msg, data_capacity(msg_size));
    msg[n] = static_cast<uint8_t>(Kind::data);
    *taken = n;
    return n + kTrailerSize;
}

// Builds a control message: `body` followed by the trailer `kind`.
inline size_t build_control(Kind kind, const void *body, size_t body_len, uint8_t *msg) {
    if (body_len) std::memcpy(msg, body, body_len);
    msg[body_len] = static_cast<uint8_t>(kind);
    return body_len + kTrailerSize;
}

struct Piece {
    Kind kind;
    size_t len; // payload bytes before the trailer
};

// Classifies one received message of `msg_len` bytes. False for a message
// that cannot be ours (empty, unknown trailer): the connection is then broken.
inline bool classify(const uint8_t *msg, size_t msg_len, Piece &out) {
    if (msg_len < kTrailerSize) return false;
    out.len = msg_len - kTrailerSize;
    out.kind = static_cast<Kind>(msg[out.len]);
    switch (out.kind) {
    case Kind::data:
    case Kind::welcome:
    case Kind::refuse:
    case Kind::goodbye: return true;
    }
    return false;
}

} // namespace ipchub::mqueue
