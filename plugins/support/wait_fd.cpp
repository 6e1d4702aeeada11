#include "wait_fd.hpp"

#include <poll.h>

#include <cerrno>

namespace ipchub::plugin {

int wait_fd(int fd, short events, Deadline deadline) {
    for (;;) {
        pollfd p{fd, events, 0};
        int rc = ::poll(&p, 1, deadline.left_ms());
        if (rc > 0) return 1;
        if (rc == 0) return 0;
        if (errno != EINTR) return -errno;
    }
}

} // namespace ipchub::plugin
