// Both halves write frames into a ring as a byte stream (capabilities 0):
// as many bytes as fit now, the rest on a later call, so frames of any size
// (also larger than the ring) pass in pieces and the readers reassemble them.
#pragma once

#include "ring.hpp"

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

namespace ipchub::shm {

constexpr size_t kMaxIov = 64;

// Gathers the iovecs after skipping `skip` bytes into `out` (at most kMaxIov).
size_t skip_iov(const iovec *iov, size_t iovcnt, size_t skip, iovec *out);

// Writes as much of iov (from byte `taken` on) as the ring takes now: one
// record, or more when the consumer frees space meanwhile. Wakes a sleeping
// consumer through `wake`. Returns the new `taken` or a negative errno.
template <typename Wake>
int64_t write_available(Ring &ring, const iovec *iov, size_t iovcnt, size_t total, size_t taken, Wake &&wake) {
    size_t before = taken;
    while (taken < total) {
        iovec rest[kMaxIov];
        size_t n = skip_iov(iov, iovcnt, taken, rest);
        int64_t w = ring.write_stream(rest, n);
        if (w < 0) return w;
        if (w == 0) break;
        taken += size_t(w);
    }
    if (taken != before && ring.consumer_needs_wake()) wake();
    return int64_t(taken);
}

} // namespace ipchub::shm
