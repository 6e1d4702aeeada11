// Client half of the pipe transport.
//
// Taking over the inherited pipes: they are checked (pipes, the right
// direction, the inodes the hub announced), then marked close-on-exec so a
// program the client later runs does not inherit the hub connection.
// IPCHUB_PIPE_FDS is deliberately NOT unset: unsetenv is not thread-safe in
// a program whose other threads may read the environment, and it is not
// needed: a process that inherits the stale variable finds the descriptors
// closed or reused, which the inode check reports clearly.
#include "client.hpp"

#include "pipe_env.hpp"
#include "plugin_support.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

namespace ipchub::pipe {

using plugin::Deadline;
using plugin::format_error;

namespace {

// The inherited pipes are one connection: one Client per process at a time.
enum { kFree = 0, kInUse = 1, kUsed = 2 };
std::atomic<int> g_pipes{kFree};

struct Client {
    int in_fd;  // hub -> us
    int out_fd; // us -> hub
};

constexpr const char *kOnlyInChildren =
    "the pipe backend only works in a process started by the hub (myipchub --spawn or the pipe plugin's children)";

// Checks that `fd` is an open pipe end for `want_mode` (O_RDONLY/O_WRONLY).
int check_pipe_end(int fd, int want_mode, uint64_t want_ino, bool check_ino, const char *role, char *err, size_t err_len) {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return format_error(err, err_len, -ENOENT,
                            "%s; %s names descriptor %d (%s) but it is not open here: only the process the hub "
                            "started may use it, not programs that process runs",
                            kOnlyInChildren, kPipeFdsVar, fd, role);
    int mode = ::fcntl(fd, F_GETFL);
    if (!S_ISFIFO(st.st_mode) || mode < 0 || (mode & O_ACCMODE) != want_mode || (check_ino && st.st_ino != want_ino))
        return format_error(err, err_len, -ENOENT,
                            "%s; descriptor %d named by %s is not the %s pipe the hub handed over (the variable was "
                            "inherited from another process?)",
                            kOnlyInChildren, fd, kPipeFdsVar, role);
    return 0;
}

} // namespace

int client_connect(const ipchub_client_params *, void **conn, char *err, size_t err_len) {
    const char *fds = std::getenv(kPipeFdsVar);
    if (!fds || !*fds) return format_error(err, err_len, -ENOENT, "%s; %s is not set", kOnlyInChildren, kPipeFdsVar);
    uint64_t rfd = 0, wfd = 0, rino = 0, wino = 0;
    if (!parse_number_pair(fds, rfd, wfd) || rfd > INT_MAX || wfd > INT_MAX || rfd == wfd)
        return format_error(err, err_len, -EINVAL, "%s='%s' is malformed: expected \"<read_fd>,<write_fd>\"", kPipeFdsVar, fds);
    const char *inodes = std::getenv(kPipeInodesVar);
    bool check_ino = inodes && *inodes;
    if (check_ino && !parse_number_pair(inodes, rino, wino))
        return format_error(err, err_len, -EINVAL, "%s='%s' is malformed: expected \"<read_inode>,<write_inode>\"",
                            kPipeInodesVar, inodes);

    int expected = kFree;
    if (!g_pipes.compare_exchange_strong(expected, kInUse))
        return format_error(err, err_len, -EBUSY, "%s",
                            expected == kInUse
                                ? "this process already has its pipe connection to the hub open (a child has exactly one)"
                                : "this process already used and closed its pipe connection to the hub (a child has "
                                  "exactly one; the hub starts a new child for a new connection)");
    int in_fd = int(rfd), out_fd = int(wfd);
    int rc = check_pipe_end(in_fd, O_RDONLY, rino, check_ino, "hub->child", err, err_len);
    if (rc == 0) rc = check_pipe_end(out_fd, O_WRONLY, wino, check_ino, "child->hub", err, err_len);
    if (rc < 0) {
        g_pipes = kFree;
        return rc;
    }
    auto *c = new (std::nothrow) Client{in_fd, out_fd};
    if (!c) {
        g_pipes = kFree;
        return format_error(err, err_len, -ENOMEM, "out of memory");
    }
    for (int fd : {in_fd, out_fd}) {
        ::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) | FD_CLOEXEC);
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    }
    *conn = c;
    return 0;
}

// Pipes have no MSG_NOSIGNAL: the kit's send keeps SIGPIPE from killing a
// program that did not ignore it. -EPIPE once the hub closed its end or died.
int64_t client_send(void *conn, const struct iovec *iov, size_t iovcnt, int timeout_ms) {
    return plugin::stream_send_wait(static_cast<Client *>(conn)->out_fd, plugin::StreamKind::pipe, iov, iovcnt,
                                    Deadline::after_ms(timeout_ms));
}

int64_t client_recv(void *conn, void *buf, size_t cap, int timeout_ms) {
    return plugin::stream_recv_wait(static_cast<Client *>(conn)->in_fd, buf, cap, Deadline::after_ms(timeout_ms));
}

void client_close(void *conn) {
    auto *c = static_cast<Client *>(conn);
    ::close(c->in_fd);
    ::close(c->out_fd);
    delete c;
    g_pipes = kUsed;
}

} // namespace ipchub::pipe
