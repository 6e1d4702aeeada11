// Waiting for one descriptor, with a timeout (the client halves block; the
// hub half never calls this).
#pragma once

#include "clock.hpp"

namespace ipchub::plugin {

// poll() one descriptor for `events` until `deadline`, retrying on EINTR.
// Returns 1 when ready (readable, writable, or error/hang-up: the next call
// on it reports which), 0 at the deadline, a negative errno on failure.
int wait_fd(int fd, short events, Deadline deadline);
// The same with a timeout in milliseconds (< 0: forever).
inline int wait_fd(int fd, short events, int timeout_ms) { return wait_fd(fd, events, Deadline::after_ms(timeout_ms)); }

} // namespace ipchub::plugin
