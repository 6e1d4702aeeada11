#include "pidfd.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace ipchub::plugin {

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
    return int(::syscall(SYS_pidfd_open, pid, 0)); // close-on-exec is implied
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

bool process_alive(int64_t pid) {
    if (pid <= 0 || pid > INT32_MAX) return false;
    return ::kill(pid_t(pid), 0) == 0 || errno != ESRCH;
}

bool pidfd_exited(int pidfd) {
    pollfd p{pidfd, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
}

} // namespace ipchub::plugin
