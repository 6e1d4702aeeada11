#include "stream_io.hpp"

#include "sigpipe_guard.hpp"
#include "wait_fd.hpp"

#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace ipchub::plugin {

namespace {
// The raw call: bytes, or -errno (EINTR included).
ssize_t send_once(int fd, StreamKind kind, const struct iovec *iov, size_t iovcnt) {
    size_t count = iovcnt > IOV_MAX ? IOV_MAX : iovcnt;
    ssize_t n;
    if (kind == StreamKind::socket) {
        msghdr msg{};
        msg.msg_iov = const_cast<iovec *>(iov);
        msg.msg_iovlen = count;
        n = ::sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    } else {
        n = ::writev(fd, iov, int(count));
    }
    return n < 0 ? -errno : n;
}
} // namespace

size_t iov_bytes(const struct iovec *iov, size_t iovcnt) {
    size_t total = 0;
    for (size_t i = 0; i < iovcnt; ++i) total += iov[i].iov_len;
    return total;
}

int64_t stream_send(int fd, StreamKind kind, const struct iovec *iov, size_t iovcnt) {
    ssize_t n = send_once(fd, kind, iov, iovcnt);
    if (n == -EAGAIN || n == -EINTR) return 0;
    return n;
}

int64_t stream_send_wait(int fd, StreamKind kind, const struct iovec *iov, size_t iovcnt, Deadline deadline) {
    for (;;) {
        ssize_t n;
        if (kind == StreamKind::pipe) {
            SigpipeGuard guard;
            n = send_once(fd, kind, iov, iovcnt);
            if (n == -EPIPE) guard.epipe();
        } else {
            n = send_once(fd, kind, iov, iovcnt);
        }
        if (n >= 0) return n;
        if (n == -EPIPE || n == -ECONNRESET) return -EPIPE; // the reader closed its end or died
        if (n != -EAGAIN && n != -EINTR) return n;
        // POLLOUT on a pipe means a page is free: a write below PIPE_BUF fits.
        // POLLERR (no reader left) wakes us too, and the next write says EPIPE.
        if (n == -EINTR) continue;
        int rc = wait_fd(fd, POLLOUT, deadline);
        if (rc <= 0) return rc; // 0: the deadline passed
    }
}

int64_t stream_recv_wait(int fd, void *buf, size_t cap, Deadline deadline) {
    for (;;) {
        ssize_t n = ::read(fd, buf, cap);
        if (n > 0) return n;
        if (n == 0 || errno == ECONNRESET) return -EPIPE;
        if (errno != EAGAIN && errno != EINTR) return -errno;
        if (errno == EINTR) continue;
        int rc = wait_fd(fd, POLLIN, deadline);
        if (rc <= 0) return rc;
    }
}

std::optional<int> pump_stream(const ipchub_host *host, void *host_conn, int fd, unsigned char *buffer, size_t size,
                               int max_reads, const bool *receiving) {
    for (int i = 0; i < max_reads && *receiving; ++i) {
        ssize_t n = ::read(fd, buffer, size);
        if (n > 0) {
            host->conn_received(host, host_conn, buffer, size_t(n));
            if (size_t(n) < size) return std::nullopt; // drained
            continue;
        }
        if (n == 0) return 0;
        if (errno == EAGAIN || errno == EINTR) return std::nullopt;
        return errno;
    }
    return std::nullopt;
}

} // namespace ipchub::plugin
