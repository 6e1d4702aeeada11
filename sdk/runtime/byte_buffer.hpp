// A growable byte queue: append at the tail, consume from the head.
// Used for every per-connection backlog, so it must not allocate once it has
// grown to its working size: consumed space is reclaimed by moving the live
// bytes to the front instead of reallocating.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace ipchub {

class ByteBuffer {
public:
    const uint8_t *data() const { return storage_.get() + head_; }
    uint8_t *data() { return storage_.get() + head_; }
    size_t size() const { return tail_ - head_; }
    bool empty() const { return head_ == tail_; }
    size_t capacity() const { return capacity_; }

    // Room for `n` more bytes at the tail; returns where to write them.
    // Call commit(n) after writing.
    uint8_t *prepare(size_t n) {
        if (capacity_ - tail_ < n) make_room(n);
        return storage_.get() + tail_;
    }
    void commit(size_t n) { tail_ += n; }

    void append(const void *bytes, size_t n) {
        if (n == 0) return;
        std::memcpy(prepare(n), bytes, n);
        commit(n);
    }

    void consume(size_t n) {
        head_ += n;
        if (head_ >= tail_) head_ = tail_ = 0;
    }

    void clear() { head_ = tail_ = 0; }

    // Gives memory back after a burst. Call it rarely (from an idle timer,
    // not per flush), or a busy connection reallocates over and over.
    void release_if_empty() {
        if (empty()) {
            storage_.reset();
            capacity_ = 0;
        }
    }

private:
    void make_room(size_t n) {
        size_t live = size();
        if (head_ > 0 && capacity_ - live >= n) {
            std::memmove(storage_.get(), storage_.get() + head_, live);
        } else {
            // Uninitialised on purpose: zero-filling would cost a pass over memory.
            size_t bigger = std::max(capacity_ * 2, live + n + 4096);
            std::unique_ptr<uint8_t[]> grown(new uint8_t[bigger]);
            if (live) std::memcpy(grown.get(), storage_.get() + head_, live);
            storage_ = std::move(grown);
            capacity_ = bigger;
        }
        head_ = 0;
        tail_ = live;
    }

    std::unique_ptr<uint8_t[]> storage_;
    size_t capacity_ = 0;
    size_t head_ = 0;
    size_t tail_ = 0;
};

} // namespace ipchub
