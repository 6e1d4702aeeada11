#include "plugin_support.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <sched.h>
#include <time.h>

#include <cerrno>
#include <cstring>

namespace ipchub::plugin {

long long monotonic_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

int check_socket_path(const std::string &path, char *err, size_t err_len) {
    if (path.size() < sizeof(sockaddr_un::sun_path)) return 0;
    return format_error(err, err_len, -ENAMETOOLONG, "socket path %s is longer than %zu bytes; use a shorter --runtime-dir",
                        path.c_str(), sizeof(sockaddr_un::sun_path) - 1);
}

int listen_unix(const std::string &path, int type, uint32_t mode, char *err, size_t err_len) {
    if (int rc = check_socket_path(path, err, err_len); rc < 0) return rc;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int fd = ::socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return format_error(err, err_len, -errno, "socket: %s", std::strerror(errno));
    ::unlink(path.c_str());
    // umask is process-wide and fchmod before bind does not reach the socket
    // file, so bind then chmod, inside a 0700 directory nobody else can enter.
    if (::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 || ::chmod(path.c_str(), mode) != 0 ||
        ::listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        ::close(fd);
        ::unlink(path.c_str());
        return format_error(err, err_len, -e, "cannot listen on %s: %s", path.c_str(), std::strerror(e));
    }
    return fd;
}

namespace {
long long monotonic_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

constexpr unsigned kYieldEvery = 4; // rounds; the hub's loop uses the same rhythm (core/event_loop.cpp)
} // namespace

bool spin_until(uint32_t spin_us, bool (*ready)(void *), void *arg) {
    if (spin_us == 0) return false;
    const long long until = monotonic_ns() + static_cast<long long>(spin_us) * 1000;
    for (unsigned round = 1;; ++round) {
        if (ready(arg)) return true;
        if (monotonic_ns() >= until) return false;
        if (round == 1 || round % kYieldEvery == 0) // first: let a process on this core take our message
            ::sched_yield();
        else
            cpu_relax();
    }
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
