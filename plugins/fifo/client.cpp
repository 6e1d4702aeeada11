// Client half of the FIFO transport: blocking with timeouts, never forever.
//
// Handshake, as the client sees it (docs/transports/fifo.md has both sides):
//  1. open fifo.register O_WRONLY|O_NONBLOCK: ENOENT or ENXIO (no reader)
//     means no hub, reported at once;
//  2. mkfifo fifo.<pid>.<serial>.up and .down (0600) and open .down for
//     reading (O_NONBLOCK: returns at once, no writer needed);
//  3. write one 32-byte record (pid, serial, nonce): atomic, below PIPE_BUF;
//  4. wait for the nonce on .down, at most connect_timeout_ms, while also
//     watching fifo.register: if its last reader goes (the hub stopped or
//     died) that is an error at once instead of a wait for the timeout;
//  5. open .up O_WRONLY|O_NONBLOCK (the hub opened its read end before it
//     answered), write the nonce, unlink both names. Connected.
// On any failure the client removes the FIFOs it made.
#include "client.hpp"

#include "hub_identity.hpp"
#include "plugin_support.hpp"
#include "registration.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>

namespace ipchub::fifo {

using plugin::Deadline;
using plugin::format_error;
using plugin::StreamKind;

namespace {

constexpr int kDefaultConnectTimeoutMs = 5000;

std::atomic<uint32_t> g_serial{0}; // one pid may hold many connections

struct Client {
    int up_fd = -1;   // write end of client -> hub
    int down_fd = -1; // read end of hub -> client
};

uint64_t make_nonce() {
    uint64_t v = 0;
    if (::getrandom(&v, sizeof v, GRND_NONBLOCK) != ssize_t(sizeof v))
        v = uint64_t(plugin::monotonic_ns()) * 0x9E3779B97F4A7C15ull ^ uint64_t(::getpid()); // a tag, not a secret
    return v;
}

// One small write that cannot kill the process with SIGPIPE: bytes written
// or -errno (-EAGAIN when the pipe is full).
ssize_t write_guarded(int fd, const void *data, size_t len) {
    plugin::SigpipeGuard guard;
    for (;;) {
        ssize_t n = ::write(fd, data, len);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if (errno == EPIPE) guard.epipe();
        return -errno;
    }
}

// The FIFOs of one connection attempt: removed again unless connected.
struct Attempt {
    std::string up, down;
    int register_fd = -1;
    Client client;
    bool done = false;
    ~Attempt() {
        if (register_fd >= 0) ::close(register_fd);
        if (done) return;
        if (client.up_fd >= 0) ::close(client.up_fd);
        if (client.down_fd >= 0) ::close(client.down_fd);
        if (!up.empty()) ::unlink(up.c_str());
        if (!down.empty()) ::unlink(down.c_str());
    }
};

// mkfifo with mode 0600 (after the umask, which can only take bits away). A
// name that exists belongs to a dead process that had our pid: replace it.
int make_fifo(const std::string &path) {
    if (::mkfifo(path.c_str(), 0600) == 0) return 0;
    if (errno != EEXIST) return -errno;
    ::unlink(path.c_str());
    return ::mkfifo(path.c_str(), 0600) == 0 ? 0 : -errno;
}

int write_record(Attempt &a, const ipchub_client_params *params, const Registration &r, Deadline deadline,
                 char *err, size_t err_len) {
    unsigned char record[kRecordSize];
    encode(r, record);
    for (;;) {
        ssize_t n = write_guarded(a.register_fd, record, kRecordSize);
        if (n == ssize_t(kRecordSize)) return 0;
        if (n == -EPIPE)
            return format_error(err, err_len, -ECONNREFUSED, "no hub is running for instance '%s' (it stopped reading %s)",
                                params->instance, register_path(params->runtime_dir).c_str());
        if (n != -EAGAIN) // a short write cannot happen below PIPE_BUF
            return format_error(err, err_len, n < 0 ? int(n) : -EIO, "cannot register: %s",
                                std::strerror(n < 0 ? int(-n) : EIO));
        // Full: the hub is busy with thousands of registrations; wait for room.
        int rc = plugin::wait_fd(a.register_fd, POLLOUT, deadline);
        if (rc == 0)
            return format_error(err, err_len, -ETIMEDOUT, "the hub of instance '%s' did not take the registration in time",
                                params->instance);
        if (rc < 0) return format_error(err, err_len, rc, "poll: %s", std::strerror(-rc));
    }
}

int await_answer(Attempt &a, const ipchub_client_params *params, const Registration &r, Deadline deadline,
                 char *err, size_t err_len) {
    unsigned char expected[kTokenSize], got[kTokenSize];
    encode_token(r.nonce, expected);
    size_t have = 0;
    while (have < kTokenSize) {
        ssize_t n = ::read(a.client.down_fd, got + have, kTokenSize - have);
        if (n > 0) {
            have += size_t(n);
            continue;
        }
        if (n == 0 && have > 0)
            return format_error(err, err_len, -ECONNREFUSED, "the hub of instance '%s' dropped the registration",
                                params->instance);
        if (n < 0 && errno != EAGAIN && errno != EINTR)
            return format_error(err, err_len, -errno, "read: %s", std::strerror(errno));
        // n == 0 with nothing read: no writer has opened .down yet (a FIFO
        // reads as EOF until then); poll reports the hub's answer or hang-up.
        pollfd p[2] = {{a.client.down_fd, POLLIN, 0}, {a.register_fd, 0, 0}};
        int rc = ::poll(p, 2, deadline.left_ms());
        if (rc < 0 && errno == EINTR) continue;
        if (rc < 0) return format_error(err, err_len, -errno, "poll: %s", std::strerror(errno));
        if (rc == 0)
            return format_error(err, err_len, -ETIMEDOUT, "no answer from the hub of instance '%s' within %lld ms",
                                params->instance, (long long)(params->connect_timeout_ms < 0 ? kDefaultConnectTimeoutMs
                                                                                            : params->connect_timeout_ms));
        if (p[0].revents & POLLIN) continue;
        if (p[0].revents & (POLLHUP | POLLERR))
            return format_error(err, err_len, -ECONNREFUSED, "the hub of instance '%s' dropped the registration",
                                params->instance);
        if (p[1].revents & (POLLERR | POLLHUP))
            return format_error(err, err_len, -ECONNREFUSED,
                                "no hub is running for instance '%s' (it stopped before answering the registration)",
                                params->instance);
    }
    if (std::memcmp(got, expected, kTokenSize) != 0)
        return format_error(err, err_len, -EPROTO, "garbled answer from the hub of instance '%s'", params->instance);
    return 0;
}

} // namespace

int client_connect(const ipchub_client_params *params, void **conn, char *err, size_t err_len) {
    const int timeout = params->connect_timeout_ms < 0 ? kDefaultConnectTimeoutMs : params->connect_timeout_ms;
    const Deadline deadline = Deadline::after_ms(timeout);
    const std::string dir = params->runtime_dir;
    const std::string reg_path = register_path(dir);
    Attempt a;

    // 1. Is anyone there? Both answers come at once, never a blocked open().
    a.register_fd = ::open(reg_path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (a.register_fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ENXIO)
            return format_error(err, err_len, e == ENOENT ? -ENOENT : -ECONNREFUSED,
                                "no hub is running for instance '%s' (%s %s)", params->instance, reg_path.c_str(),
                                e == ENOENT ? "does not exist" : "has no reader: its hub is gone");
        return format_error(err, err_len, -e, "cannot open %s: %s", reg_path.c_str(), std::strerror(e));
    }
    struct stat st {};
    if (::fstat(a.register_fd, &st) != 0 || !S_ISFIFO(st.st_mode))
        return format_error(err, err_len, -ECONNREFUSED, "no hub is running for instance '%s' (%s is not a FIFO)",
                            params->instance, reg_path.c_str());
    // The FIFO's owner is the hub that made it: not another user's impostor.
    std::string what = "its registration FIFO " + reg_path;
    if (int rc = plugin::check_hub_owner(a.register_fd, what.c_str(), params->instance, err, err_len); rc < 0) return rc;

    // 2. Our own pair of FIFOs; .down open for reading before anyone writes.
    Registration r;
    r.pid = uint32_t(::getpid());
    r.serial = g_serial.fetch_add(1, std::memory_order_relaxed);
    r.nonce = make_nonce();
    std::string base = client_base(dir, r.pid, r.serial);
    a.up = base + std::string(kUpSuffix);
    a.down = base + std::string(kDownSuffix);
    for (std::string *path : {&a.up, &a.down}) {
        if (int rc = make_fifo(*path); rc < 0) {
            std::string failed = *path;
            if (path == &a.up) a.up.clear(); // not ours to remove
            a.down.clear();
            return format_error(err, err_len, rc, "cannot create %s: %s", failed.c_str(), std::strerror(-rc));
        }
    }
    a.client.down_fd = ::open(a.down.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (a.client.down_fd < 0) return format_error(err, err_len, -errno, "cannot open %s: %s", a.down.c_str(), std::strerror(errno));

    // 3. + 4. Register and wait for the hub's answer.
    if (int rc = write_record(a, params, r, deadline, err, err_len); rc < 0) return rc;
    if (int rc = await_answer(a, params, r, deadline, err, err_len); rc < 0) return rc;

    // 5. The hub holds .up open for reading now, so this open cannot block or fail
    //    with ENXIO unless the hub went away in between.
    a.client.up_fd = ::open(a.up.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (a.client.up_fd < 0) {
        int e = errno;
        if (e == ENXIO)
            return format_error(err, err_len, -ECONNREFUSED, "the hub of instance '%s' went away during the handshake",
                                params->instance);
        return format_error(err, err_len, -e, "cannot open %s: %s", a.up.c_str(), std::strerror(e));
    }
    unsigned char token[kTokenSize];
    encode_token(r.nonce, token);
    if (ssize_t n = write_guarded(a.client.up_fd, token, kTokenSize); n != ssize_t(kTokenSize))
        return format_error(err, err_len, -ECONNREFUSED, "the hub of instance '%s' went away during the handshake",
                            params->instance);
    // Both sides hold both ends: the names have done their job.
    ::unlink(a.up.c_str());
    ::unlink(a.down.c_str());

    auto *c = new (std::nothrow) Client(a.client);
    if (!c) return format_error(err, err_len, -ENOMEM, "out of memory");
    a.done = true;
    *conn = c;
    return 0;
}

// -EPIPE once the hub closed its end or died.
int64_t client_send(void *conn, const struct iovec *iov, size_t iovcnt, int timeout_ms) {
    return plugin::stream_send_wait(static_cast<Client *>(conn)->up_fd, StreamKind::pipe, iov, iovcnt,
                                    Deadline::after_ms(timeout_ms));
}

// -EPIPE at EOF: the hub closed the connection or died.
int64_t client_recv(void *conn, void *buf, size_t cap, int timeout_ms) {
    return plugin::stream_recv_wait(static_cast<Client *>(conn)->down_fd, buf, cap, Deadline::after_ms(timeout_ms));
}

void client_close(void *conn) {
    auto *c = static_cast<Client *>(conn);
    ::close(c->up_fd);
    ::close(c->down_fd);
    delete c;
}

} // namespace ipchub::fifo
