// A growable byte queue: append at the tail, consume from the head.
// Used for every per-connection backlog, so it must not allocate once it has
// grown to its working size: consumed space is reclaimed by moving the live
// bytes to the front instead of reallocating.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace ipchub {

class ByteBuffer {
public:
    const uint8_t *data() const { return storage_.data() + head_; }
    uint8_t *data() { return storage_.data() + head_; }
    size_t size() const { return tail_ - head_; }
    bool empty() const { return head_ == tail_; }
    size_t capacity() const { return storage_.size(); }

    // Room for `n` more bytes at the tail; returns where to write them.
    // Call commit(n) after writing.
    uint8_t *prepare(size_t n) {
        if (storage_.size() - tail_ < n) make_room(n);
        return storage_.data() + tail_;
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

    // Gives memory back after a burst (the buffer keeps `keep` bytes).
    void shrink_if_idle(size_t keep) {
        if (empty() && storage_.size() > keep) {
            std::vector<uint8_t>(keep).swap(storage_);
        }
    }

private:
    void make_room(size_t n) {
        size_t live = size();
        if (head_ > 0 && storage_.size() - live >= n) {
            std::memmove(storage_.data(), storage_.data() + head_, live);
        } else {
            std::vector<uint8_t> bigger(std::max(storage_.size() * 2, live + n + 4096));
            if (live) std::memcpy(bigger.data(), storage_.data() + head_, live);
            storage_.swap(bigger);
        }
        head_ = 0;
        tail_ = live;
    }

    std::vector<uint8_t> storage_;
    size_t head_ = 0;
    size_t tail_ = 0;
};

} // namespace ipchub
