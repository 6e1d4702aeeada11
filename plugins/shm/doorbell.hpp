// The doorbell: one eventfd per connection, created by the hub and passed to
// the client with the segment. The hub cannot sleep on a ring's semaphore
// inside its epoll loop, so the client rings this instead whenever the hub
// announced that it sleeps (the ring's *_waiting flags).
#pragma once

#include <unistd.h>

#include <cstdint>

namespace ipchub::shm {

inline void ring_doorbell(int fd) {
    uint64_t one = 1;
    ssize_t n = ::write(fd, &one, sizeof one); // EAGAIN only when the counter is saturated: already rung
    (void)n;
}

// Only for a level-triggered watch (ABI 1.0 host): reset the counter, or the
// loop reports it for ever. The rings, not the count, say what happened.
inline void reset_doorbell(int fd) {
    uint64_t count;
    ssize_t n = ::read(fd, &count, sizeof count);
    (void)n;
}

} // namespace ipchub::shm
