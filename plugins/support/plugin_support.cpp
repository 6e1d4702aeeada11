#include "plugin_support.hpp"

#include <poll.h>
#include <time.h>

#include <cerrno>

namespace ipchub::plugin {

long long monotonic_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int wait_fd(int fd, short events, int timeout_ms) {
    long long deadline = timeout_ms < 0 ? -1 : monotonic_ms() + timeout_ms;
    for (;;) {
        int left = deadline < 0 ? -1 : static_cast<int>(deadline - monotonic_ms());
        if (deadline >= 0 && left < 0) left = 0;
        pollfd p{fd, events, 0};
        int rc = ::poll(&p, 1, left);
        if (rc > 0) return 1; // readable, writable, or error/hang-up: the next call reports which
        if (rc == 0) return 0;
        if (errno != EINTR) return -errno;
    }
}

} // namespace ipchub::plugin
