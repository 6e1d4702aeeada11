// A single-producer / single-consumer byte ring in (shared) memory carrying
// variable-size, length-prefixed records. Independent of the plugin ABI so it
// can be unit tested on ordinary memory and in two threads under TSan.
//
// Layout: a RingHeader (control words and the two semaphores) and a separate
// power-of-two data area. `tail` (bytes ever written) and `head` (bytes ever
// consumed) are 64-bit counters that only grow; the position in the data
// area is `counter & (capacity - 1)`, so empty (tail == head) and full
// (tail - head == capacity) are never confused and no byte is wasted.
//
// A record is a 4-byte little-endian length L (1 <= L) followed by L bytes.
// Records are packed byte by byte; a record (its length word included) that
// reaches the end of the data area continues at its start, copied in two
// parts. So there is no padding record and no torn record: the producer
// publishes `tail` only after the whole record is in place, the consumer
// releases `head` only after it copied the bytes out.
//
// Exactly one producer and one consumer per ring (the plugin gives every
// client its own pair of rings), so no mutex exists anywhere: nothing a
// kill -9 could leave locked.
//
// Memory order: every access to head, tail and the two "waiting" flags is
// sequentially consistent. The acquire/release part orders the data copies;
// the single total order is what the sleep/wake protocol below relies on
// (a Dekker-style store-then-load on both sides; see docs/transports/shm.md).
// On x86 that costs one locked instruction per published batch, not per byte.
#pragma once

#include <semaphore.h>
#include <sys/uio.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>

namespace ipchub::shm {

constexpr size_t kRecordHeader = 4;
constexpr size_t kMinRingBytes = 4096;
constexpr size_t kMaxRingBytes = size_t{1} << 30; // record lengths stay far below 2^32

constexpr bool valid_ring_bytes(uint64_t n) {
    return n >= kMinRingBytes && n <= kMaxRingBytes && (n & (n - 1)) == 0;
}

// Shared control block of one ring. Lives in the segment (or, in tests, in
// ordinary memory). Producer- and consumer-written words sit on separate
// cache lines so the two sides do not bounce one line on every record.
struct RingHeader {
    alignas(64) std::atomic<uint64_t> tail; // written by the producer only
    // The producer is (about to be) asleep waiting for space: the consumer
    // posts `spaces` (or rings the hub's doorbell) after it freed some.
    std::atomic<uint32_t> producer_waiting;
    alignas(64) std::atomic<uint64_t> head; // written by the consumer only
    // The consumer is (about to be) asleep waiting for data: the producer
    // posts `items` (or rings the hub's doorbell) after it published some.
    std::atomic<uint32_t> consumer_waiting;
    alignas(64) sem_t items; // process-shared; counts wake-ups, not records
    sem_t spaces;
    uint64_t capacity; // informational copy; each side trusts its own validated value
};
static_assert(std::atomic<uint64_t>::is_always_lock_free, "the ring needs lock-free 64-bit atomics");
static_assert(std::atomic<uint32_t>::is_always_lock_free, "the ring needs lock-free 32-bit atomics");

// Prepares a header (in zeroed memory) for a ring of `capacity` bytes.
// `start` is the initial value of both counters (0 in production; tests start
// near 2^64 or at every alignment). `shared`: the semaphores work across
// processes (sem_init pshared = 1), so no named semaphore exists to leak.
inline int init_ring_header(RingHeader *h, uint64_t capacity, bool shared, uint64_t start = 0) {
    if (!valid_ring_bytes(capacity)) return -EINVAL;
    new (h) RingHeader{};
    h->tail.store(start);
    h->head.store(start);
    h->capacity = capacity;
    if (sem_init(&h->items, shared ? 1 : 0, 0) != 0 || sem_init(&h->spaces, shared ? 1 : 0, 0) != 0) return -errno;
    return 0;
}

// One side's view of a ring. Each process builds its own view with the
// capacity it validated, so a peer that scribbles over the header can make
// reads fail (-EPROTO) but never make this side touch memory outside the ring.
//
// The peer can write every byte of the header, so a view never reloads an
// index it owns: the consumer keeps its own `head`, the producer its own
// `tail`, and the shared words are only ever *written* by their owner (for
// the peer to read). The index a view does not own is read from shared
// memory and checked on every load: it may only move forwards, and never
// further than the ring allows (head <= tail <= head + capacity). Anything
// else is corruption, and it sticks: from then on every call of this view
// returns -EPROTO, so a caller looping over a corrupt ring stops.
class Ring {
public:
    Ring() = default;
    // Takes this side's copies of both indices from the header once (a
    // freshly initialised one, or one this side wrote itself).
    Ring(RingHeader *header, uint8_t *data, uint64_t capacity)
        : h_(header), data_(data), cap_(capacity), mask_(capacity - 1), head_(header->head.load()),
          tail_(header->tail.load()), seen_head_(head_), seen_tail_(tail_) {}

    uint64_t capacity() const { return cap_; }
    // Largest record try_write accepts.
    size_t max_record() const { return size_t(cap_ - kRecordHeader); }
    RingHeader *header() const { return h_; }
    // The peer corrupted the ring (sticky): every call now returns -EPROTO.
    bool corrupt() const { return corrupt_; }

    // Consumer side: this side's read position (bytes ever consumed).
    uint64_t read_position() const { return head_; }
    // Consumer side: read nothing written past `position` (at most one ring
    // ahead of read_position()): for a peer that is gone, whatever it writes
    // from now on is not owed to anyone.
    void end_at(uint64_t position) {
        end_ = position;
        ended_ = true;
    }

    // Consumer side: bytes in the ring (records incl. their length words), or
    // -EPROTO when the producer's tail is impossible.
    int64_t used() {
        uint64_t tail = 0;
        if (!load_tail(tail)) return -EPROTO;
        return int64_t(tail - head_);
    }
    bool empty() { return used() == 0; }

    // ---- producer ----

    // Writes the iovecs as ONE record if all of it fits; else writes nothing.
    // Returns the bytes written (the total), 0 when there is no room yet,
    // -EMSGSIZE when it can never fit (total > max_record()), -EPROTO.
    int64_t try_write(const struct iovec *iov, size_t iovcnt) {
        size_t total = 0;
        for (size_t i = 0; i < iovcnt; ++i) total += iov[i].iov_len;
        if (total == 0) return 0;
        if (total > max_record()) return -EMSGSIZE;
        int64_t room = free_space();
        if (room < 0) return room;
        if (size_t(room) < kRecordHeader + total) return 0;
        return write_record(iov, iovcnt, total);
    }

    // Byte-stream write: takes as many leading bytes of the iovecs as fit in
    // one record (possibly all, possibly 0). A message larger than the ring
    // therefore goes through in pieces as the consumer frees space.
    int64_t write_stream(const struct iovec *iov, size_t iovcnt) {
        size_t total = 0;
        for (size_t i = 0; i < iovcnt; ++i) total += iov[i].iov_len;
        int64_t room = free_space();
        if (room < 0) return room;
        if (total == 0 || size_t(room) <= kRecordHeader) return 0;
        size_t take = total < size_t(room) - kRecordHeader ? total : size_t(room) - kRecordHeader;
        return write_record(iov, iovcnt, take);
    }

    // After publishing: true when the consumer sleeps (or is about to) and
    // must be woken; claims that wake-up so only one post is made per sleep.
    bool consumer_needs_wake() {
        return h_->consumer_waiting.load() != 0 && h_->consumer_waiting.exchange(0) != 0;
    }

    // Before sleeping for space: announce it, then look again. Returns true
    // when the ring still has fewer than `need` free bytes (go to sleep: the
    // consumer will wake us), false when space appeared (do not sleep).
    bool producer_prepare_sleep(size_t need) {
        h_->producer_waiting.store(1);
        int64_t room = free_space();
        if (room >= 0 && size_t(room) < need) return true;
        h_->producer_waiting.store(0);
        return false;
    }
    void producer_cancel_sleep() { h_->producer_waiting.store(0); }
    // Producer side: free bytes, or -EPROTO when the consumer's head is impossible.
    int64_t free_space() {
        uint64_t head = 0;
        if (!load_head(head)) return -EPROTO;
        return int64_t(cap_ - (tail_ - head));
    }

    // ---- consumer ----

    // Reads the next whole record into buf. Returns its length, 0 when the
    // ring is empty, -EMSGSIZE when it is longer than cap (left in place),
    // -EPROTO when the ring is corrupt.
    int64_t read_record(void *buf, size_t cap) {
        int64_t avail = used();
        if (avail <= 0) return avail;
        uint32_t len = 0;
        if (!read_length(head_, uint64_t(avail), len)) return fail();
        if (len > cap) return -EMSGSIZE;
        copy_out(head_ + kRecordHeader, buf, len);
        head_ += kRecordHeader + len;
        h_->head.store(head_);
        return len;
    }

    // Byte-stream read: copies up to cap bytes from as many records as there
    // are, the last one possibly in part (its remainder stays a record: the
    // length word is rewritten in front of it, in space we own). One release
    // of `head` for the whole batch. Returns bytes, 0 if empty, -EPROTO.
    // Bounded: every turn of its loop moves at least one byte.
    int64_t read_stream(void *buf, size_t cap) {
        int64_t used_now = used();
        if (used_now < 0) return used_now;
        uint64_t avail = uint64_t(used_now);
        auto *out = static_cast<uint8_t *>(buf);
        size_t got = 0;
        uint64_t head = head_;
        while (avail > 0 && got < cap) {
            uint32_t len = 0;
            if (!read_length(head, avail, len)) return fail();
            size_t take = len < cap - got ? len : cap - got;
            copy_out(head + kRecordHeader, out + got, take);
            got += take;
            if (take == len) {
                head += kRecordHeader + len;
                avail -= kRecordHeader + len;
            } else { // keep the rest as a shorter record
                head += take;
                uint32_t rest = uint32_t(len - take);
                uint8_t le[4] = {uint8_t(rest), uint8_t(rest >> 8), uint8_t(rest >> 16), uint8_t(rest >> 24)};
                copy_in(head, le, 4);
                break;
            }
        }
        if (got) {
            head_ = head;
            h_->head.store(head_);
        }
        return int64_t(got);
    }

    // After freeing space: true when the producer sleeps and must be woken.
    bool producer_needs_wake() {
        return h_->producer_waiting.load() != 0 && h_->producer_waiting.exchange(0) != 0;
    }

    // Before sleeping for data: announce it, then look again. True: still
    // empty, go to sleep. False: data arrived (or the ring is corrupt, which
    // the next read reports): do not sleep.
    bool consumer_prepare_sleep() {
        h_->consumer_waiting.store(1);
        if (used() == 0) return true;
        h_->consumer_waiting.store(0);
        return false;
    }
    void consumer_cancel_sleep() { h_->consumer_waiting.store(0); }

private:
    int64_t write_record(const struct iovec *iov, size_t iovcnt, size_t take) {
        uint8_t le[4] = {uint8_t(take), uint8_t(take >> 8), uint8_t(take >> 16), uint8_t(take >> 24)};
        copy_in(tail_, le, 4);
        uint64_t at = tail_ + kRecordHeader;
        size_t left = take;
        for (size_t i = 0; i < iovcnt && left; ++i) {
            size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;
            copy_in(at, iov[i].iov_base, n);
            at += n;
            left -= n;
        }
        tail_ += kRecordHeader + take;
        h_->tail.store(tail_); // publishes the record
        return int64_t(take);
    }

    int64_t fail() {
        corrupt_ = true;
        return -EPROTO;
    }

    // The producer's tail, checked: never behind our head nor more than the
    // ring ahead of it, never behind a tail we saw before. (Counters wrap at
    // 2^64, so every comparison is a difference.)
    bool load_tail(uint64_t &tail) {
        if (corrupt_) return false;
        tail = h_->tail.load();
        if (tail - head_ > cap_ || tail - seen_tail_ > tail - head_) {
            fail();
            return false;
        }
        seen_tail_ = tail;
        if (ended_ && tail - head_ > end_ - head_) tail = end_;
        return true;
    }
    // The consumer's head, checked: never ahead of our tail nor more than the
    // ring behind it, never behind a head we saw before.
    bool load_head(uint64_t &head) {
        if (corrupt_) return false;
        head = h_->head.load();
        if (tail_ - head > cap_ || head - seen_head_ > tail_ - seen_head_) {
            fail();
            return false;
        }
        seen_head_ = head;
        return true;
    }

    // Reads the length word at `pos`; false when it cannot be a valid record.
    bool read_length(uint64_t pos, uint64_t avail, uint32_t &len) const {
        if (avail <= kRecordHeader) return false;
        uint8_t le[4];
        copy_out(pos, le, 4);
        len = uint32_t(le[0]) | uint32_t(le[1]) << 8 | uint32_t(le[2]) << 16 | uint32_t(le[3]) << 24;
        return len >= 1 && len <= avail - kRecordHeader;
    }

    // Copies across the end of the data area in (at most) two parts.
    void copy_in(uint64_t pos, const void *src, size_t n) {
        size_t off = size_t(pos & mask_);
        size_t first = n < cap_ - off ? n : size_t(cap_ - off);
        std::memcpy(data_ + off, src, first);
        if (n > first) std::memcpy(data_, static_cast<const uint8_t *>(src) + first, n - first);
    }
    void copy_out(uint64_t pos, void *dst, size_t n) const {
        size_t off = size_t(pos & mask_);
        size_t first = n < cap_ - off ? n : size_t(cap_ - off);
        std::memcpy(dst, data_ + off, first);
        if (n > first) std::memcpy(static_cast<uint8_t *>(dst) + first, data_, n - first);
    }

    RingHeader *h_ = nullptr;
    uint8_t *data_ = nullptr;
    uint64_t cap_ = 0;
    uint64_t mask_ = 0;
    uint64_t head_ = 0;      // consumer: ours, never reloaded
    uint64_t tail_ = 0;      // producer: ours, never reloaded
    uint64_t seen_head_ = 0; // producer: the consumer's head as last checked
    uint64_t seen_tail_ = 0; // consumer: the producer's tail as last checked
    uint64_t end_ = 0;       // consumer: with ended_, reads stop here (end_at)
    bool ended_ = false;
    bool corrupt_ = false;
};

// Waits on a semaphore for at most timeout_ms (CLOCK_MONOTONIC, so wall
// clock jumps do not matter), retrying on EINTR. 1: got it, 0: timed out,
// negative errno on failure.
int sem_wait_ms(sem_t *sem, int timeout_ms);

} // namespace ipchub::shm
