// Small helpers shared by the stock transport plugins (compiled into each
// .so; not part of the ABI and never seen by the hub).
#pragma once

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace ipchub::plugin {

// Writes a printf-style message into a plugin ABI error buffer and returns
// `code` (a negative errno), so `return format_error(...)` reads naturally.
inline int format_error(char *err, size_t err_len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
inline int format_error(char *err, size_t err_len, int code, const char *fmt, ...) {
    if (err && err_len) {
        va_list ap;
        va_start(ap, fmt);
        std::vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

// poll() one descriptor for `events` up to timeout_ms (< 0: forever), retrying
// on EINTR. Returns 1 when ready, 0 on timeout, a negative errno on failure.
int wait_fd(int fd, short events, int timeout_ms);

// Hub side of a transport that rendezvous on a UNIX socket file (socket,
// shm). `type` is SOCK_STREAM or SOCK_SEQPACKET.
// - check_socket_path: 0, or -ENAMETOOLONG with a message when `path` does
//   not fit sockaddr_un (hub_init: fail before anything is created).
// - listen_unix: replaces a dead hub's leftover file (the instance lock says
//   nobody else owns it), binds, applies `mode`, listens. Returns the
//   non-blocking, close-on-exec descriptor, or a negative errno with a
//   message (and no file left behind).
int check_socket_path(const std::string &path, char *err, size_t err_len);
int listen_unix(const std::string &path, int type, uint32_t mode, char *err, size_t err_len);

// Milliseconds on CLOCK_MONOTONIC.
long long monotonic_ms();

// Polls `ready()` for up to `spin_us` microseconds, giving the CPU away every
// few rounds (a spinner on a machine with fewer cores than busy processes
// would otherwise hold its core for a whole time slice while the process it
// waits for cannot run). True as soon as ready() is, false when the time is
// up (or spin_us is 0): then the caller sleeps as usual.
bool spin_until(uint32_t spin_us, bool (*ready)(void *), void *arg);
template <typename Ready> bool spin_until(uint32_t spin_us, const Ready &ready) {
    return spin_until(spin_us, [](void *r) { return bool((*static_cast<const Ready *>(r))()); },
                      const_cast<void *>(static_cast<const void *>(&ready)));
}

} // namespace ipchub::plugin
