// Hub half of the FIFO transport (hub event-loop thread only; never blocks).
//
// Handshake, as the hub sees it (the whole sequence: docs/transports/fifo.md):
//  1. read a 32-byte record (pid, serial, nonce) from fifo.register;
//  2. pidfd_open(pid), so a client that dies before opening its end is
//     noticed at once (no EOF can tell: it never opened the FIFO);
//  3. open fifo.<pid>.<serial>.up for reading and .down for writing, both
//     O_NONBLOCK. Opening .down succeeds only because the client holds its
//     read end already; ENXIO means the client is gone;
//  4. write the nonce on .down ("accepted"), then wait at most
//     handshake_timeout_ms for the nonce on .up ("both of my ends are open");
//  5. unlink both names (the descriptors are all either side needs now, so
//     a crash can no longer leave files behind), close the pidfd and report
//     the connection to the hub.
//
// The hub never opens a client's .up FIFO for writing, so the client's exit
// (however it dies) is EOF on .up. It holds a second, write-only descriptor
// of fifo.register so that one never reports EOF or hang-up while idle.
#include "hub.hpp"

#include "config.hpp"
#include "leftovers.hpp"
#include "plugin_support.hpp"
#include "registration.hpp"
#include "repeated_warning.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>

namespace ipchub::fifo {

using plugin::format_error;

namespace {

constexpr size_t kReadBuffer = 256 * 1024; // shared by all connections of the hub
constexpr int kReadsPerWakeup = 4;         // then let other connections have a turn
constexpr size_t kRecordsPerRead = 64;
constexpr size_t kPendingPerProcess = 16; // handshakes one process may have running at once

struct Hub;

struct Conn {
    Hub *hub = nullptr;
    Registration reg;
    std::string base; // "<dir>/fifo.<pid>.<serial>" (names unlinked once connected)
    int up_fd = -1;   // read end of client -> hub
    int down_fd = -1; // write end of hub -> client
    int pidfd = -1;   // only while the handshake runs
    int64_t timer = 0;
    void *host_conn = nullptr; // set when the handshake completed
    unsigned char token[kTokenSize] = {};
    size_t token_have = 0;
    bool receiving = true;
    bool want_write = false;

    // Closes everything, and removes the names of a client that never
    // finished its handshake (a connected one's were unlinked then).
    void teardown(const ipchub_host *host) {
        if (timer > 0) host->cancel_timer(host, timer);
        plugin::close_watched(host, pidfd);
        plugin::close_watched(host, up_fd);
        plugin::close_watched(host, down_fd);
        if (!host_conn) unlink_names();
    }
    void unlink_names() const {
        ::unlink((base + std::string(kUpSuffix)).c_str());
        ::unlink((base + std::string(kDownSuffix)).c_str());
    }
};

struct Hub {
    const ipchub_host *host = nullptr;
    std::string dir, register_path;
    uint32_t file_mode = 0600;
    FifoConfig config;
    int register_fd = -1;   // read end of fifo.register
    int keepalive_fd = -1;  // our own write end of it: no EOF when the last client closes
    plugin::ConnectionSet<Conn> conns; // handshaking and connected
    unsigned char records[kRecordsPerRead * kRecordSize];
    size_t records_have = 0;
    size_t pending = 0; // conns still in their handshake (no host_conn)
    plugin::RepeatedWarning garbage_warning, full_warning; // one line per burst
    unsigned char buffer[kReadBuffer];
};

void log(Hub *h, int level, const std::string &text) { h->host->log(h->host, level, text.c_str()); }

std::string who(const Conn *c) {
    return "pid " + std::to_string(c->reg.pid) + " (fifo." + std::to_string(c->reg.pid) + "." +
           std::to_string(c->reg.serial) + ")";
}

// A client the hub never heard of (its handshake failed): no report.
void drop_pending(Conn *c, const std::string &why) {
    --c->hub->pending;
    log(c->hub, IPCHUB_LOG_DEBUG, "dropping registration of " + who(c) + ": " + why);
    c->hub->conns.close(c);
}

void on_up_event(void *user, int, uint32_t events);

void update_up_watch(Conn *c) {
    Hub *h = c->hub;
    // Paused: not watched at all, so a hang-up cannot fire over and over
    // (epoll reports it whatever the event mask). The data and the EOF stay
    // in the pipe until reading resumes.
    if (c->receiving)
        h->host->watch_fd(h->host, c->up_fd, IPCHUB_EV_READ, on_up_event, c);
    else
        h->host->unwatch_fd(h->host, c->up_fd);
}

// Returns false when the hub refused the connection (`c` is freed then).
bool complete_handshake(Conn *c) {
    Hub *h = c->hub;
    --h->pending; // connected or refused: no longer waiting either way
    if (c->timer > 0) h->host->cancel_timer(h->host, c->timer);
    c->timer = 0;
    plugin::close_watched(h->host, c->pidfd); // EOF on .up is the signal from now on
    c->unlink_names();
    std::string peer = "pid " + std::to_string(c->reg.pid);
    if (!h->conns.report_opened(c, peer.c_str())) return false; // the hub refuses (shutting down)
    log(h, IPCHUB_LOG_DEBUG, "connected " + who(c));
    return true;
}

enum class Handshake { pending, connected, dropped };

// Reads (the rest of) the client's token; on `dropped` `c` is freed.
Handshake read_token(Conn *c) {
    for (;;) {
        ssize_t n = ::read(c->up_fd, c->token + c->token_have, kTokenSize - c->token_have);
        if (n > 0) {
            c->token_have += size_t(n);
            if (c->token_have < kTokenSize) continue;
            unsigned char expected[kTokenSize];
            encode_token(c->reg.nonce, expected);
            if (std::memcmp(expected, c->token, kTokenSize) != 0) {
                drop_pending(c, "wrong handshake token on its FIFO");
                return Handshake::dropped;
            }
            return complete_handshake(c) ? Handshake::connected : Handshake::dropped;
        }
        if (n == 0) {
            drop_pending(c, "closed its FIFO before the handshake completed");
            return Handshake::dropped;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN) return Handshake::pending;
        drop_pending(c, std::string("read: ") + std::strerror(errno));
        return Handshake::dropped;
    }
}

void on_up_event(void *user, int, uint32_t) {
    auto *c = static_cast<Conn *>(user);
    Hub *h = c->hub;
    if (!c->host_conn) {
        read_token(c); // the rest of the stream is read on the next wake-up
        return;
    }
    // EOF: the client closed or died.
    if (auto end = plugin::pump_stream(h->host, c->host_conn, c->up_fd, h->buffer, sizeof h->buffer, kReadsPerWakeup,
                                       &c->receiving))
        h->conns.lost(c, *end);
}

void on_down_event(void *user, int, uint32_t) {
    // Writable again, or an error (the client closed its read end): either
    // way the hub's next hub_send finds out which.
    auto *c = static_cast<Conn *>(user);
    Hub *h = c->hub;
    c->want_write = false;
    h->host->unwatch_fd(h->host, c->down_fd);
    h->host->conn_writable(h->host, c->host_conn);
}

void on_pid_exit(void *user, int, uint32_t) {
    auto *c = static_cast<Conn *>(user);
    plugin::close_watched(c->hub->host, c->pidfd); // stays readable forever: once is enough
    // It may have finished the handshake (and written data) just before it
    // exited: take that first; EOF on .up then ends the connection as usual.
    if (read_token(c) == Handshake::pending) drop_pending(c, "the process exited during the handshake");
}

void on_handshake_timeout(void *user) {
    auto *c = static_cast<Conn *>(user);
    c->timer = 0;
    drop_pending(c, "did not open its FIFO within " + std::to_string(c->hub->config.handshake_timeout_ms) + " ms");
}

void grow_pipe(Hub *h, int fd) {
    if (h->config.pipe_size == 0) return;
    int now = ::fcntl(fd, F_GETPIPE_SZ);
    if (now >= 0 && uint32_t(now) >= h->config.pipe_size) return;
    ::fcntl(fd, F_SETPIPE_SZ, int(h->config.pipe_size)); // refused: keep the default, as documented
}

bool is_fifo(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

void warn_limited(Hub *h, plugin::RepeatedWarning &warning, const std::string &text) {
    warning.report(h->host, IPCHUB_LOG_WARN, text);
}

void accept_registration(Hub *h, const Registration &r) {
    size_t pending_of_pid = 0;
    for (Conn *other : h->conns) {
        if (other->reg.pid == r.pid && other->reg.serial == r.serial) {
            warn_limited(h, h->garbage_warning, "ignoring a second registration of " + who(other));
            return;
        }
        if (other->reg.pid == r.pid && !other->host_conn) ++pending_of_pid;
    }
    // A legitimate process has a handshake or two in flight (milliseconds
    // each); one process cannot take the whole hub-wide allowance.
    if (h->pending >= h->config.max_pending_registrations || pending_of_pid >= kPendingPerProcess) {
        warn_limited(h, h->full_warning,
                     "ignoring the registration of pid " + std::to_string(r.pid) + ": " +
                         (pending_of_pid >= kPendingPerProcess
                              ? std::to_string(pending_of_pid) + " of its registrations are waiting for their handshake"
                              : std::to_string(h->pending) +
                                    " registrations are waiting for their handshake (max_pending_registrations)"));
        return;
    }
    auto *c = new (std::nothrow) Conn;
    if (!c) {
        log(h, IPCHUB_LOG_ERROR, "out of memory for a FIFO client");
        return;
    }
    c->hub = h;
    c->reg = r;
    c->base = client_base(h->dir, r.pid, r.serial);
    h->conns.add(c);
    ++h->pending;
    c->pidfd = plugin::open_pidfd(pid_t(r.pid));
    if (c->pidfd < 0 && errno == ESRCH) return drop_pending(c, "the process no longer exists");
    // Without a pidfd (old kernel, no permission) the handshake timeout still
    // bounds how long a dead registration lingers.
    std::string up = c->base + std::string(kUpSuffix), down = c->base + std::string(kDownSuffix);
    c->up_fd = ::open(up.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (c->up_fd < 0) return drop_pending(c, "cannot open " + up + ": " + std::strerror(errno));
    // ENXIO: nobody holds the read end, i.e. the client is gone.
    c->down_fd = ::open(down.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
    if (c->down_fd < 0) return drop_pending(c, "cannot open " + down + ": " + std::strerror(errno));
    if (!is_fifo(c->up_fd) || !is_fifo(c->down_fd)) return drop_pending(c, "its files are not FIFOs");
    grow_pipe(h, c->up_fd);
    grow_pipe(h, c->down_fd);
    unsigned char token[kTokenSize];
    encode_token(r.nonce, token);
    // The pipe is empty and the token is smaller than PIPE_BUF: all or nothing.
    if (::write(c->down_fd, token, kTokenSize) != ssize_t(kTokenSize))
        return drop_pending(c, std::string("cannot answer: ") + std::strerror(errno));
    int rc = h->host->watch_fd(h->host, c->up_fd, IPCHUB_EV_READ, on_up_event, c);
    if (rc == 0 && c->pidfd >= 0) rc = h->host->watch_fd(h->host, c->pidfd, IPCHUB_EV_READ, on_pid_exit, c);
    if (rc < 0) return drop_pending(c, std::string("cannot watch its FIFO: ") + std::strerror(-rc));
    int64_t timer = h->host->add_timer(h->host, h->config.handshake_timeout_ms, 0, on_handshake_timeout, c);
    if (timer < 0) return drop_pending(c, "cannot start the handshake timer");
    c->timer = timer;
    log(h, IPCHUB_LOG_DEBUG, "registration from " + who(c));
}

void on_register(void *user, int, uint32_t) {
    auto *h = static_cast<Hub *>(user);
    bool any = false;
    // Bounded: a writer that keeps the FIFO full must not keep the loop here;
    // what is left is read on the next turn (the FIFO stays readable).
    for (int round = 0; round < kReadsPerWakeup; ++round) {
        ssize_t n = ::read(h->register_fd, h->records + h->records_have, sizeof h->records - h->records_have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break; // EAGAIN: all read (0 cannot happen: we hold a write end)
        h->records_have += size_t(n);
        size_t off = 0;
        while (h->records_have - off >= kRecordSize) {
            Registration r;
            if (decode(h->records + off, r)) {
                any = true;
                accept_registration(h, r);
                off += kRecordSize;
                continue;
            }
            // Not ours (a stray writer): skip to the next magic to get back in step.
            warn_limited(h, h->garbage_warning, "ignoring malformed bytes in " + h->register_path);
            const unsigned char *begin = h->records + off + 1, *end = h->records + h->records_have;
            const unsigned char *next = std::search(begin, end, kRecordMagic, kRecordMagic + 4);
            off = size_t((next == end ? end - std::min<size_t>(3, h->records_have - off - 1) : next) - h->records);
        }
        std::memmove(h->records, h->records + off, h->records_have - off);
        h->records_have -= off;
    }
    // A client killed between creating its FIFOs and registering leaves them
    // behind unknown to us. Registrations are rare: a good moment to look.
    if (any) remove_leftovers(h->dir, Leftovers::dead_clients_only, nullptr);
}

void stop_pending(Hub *h) {
    for (Conn *c : h->conns.snapshot())
        if (!c->host_conn) drop_pending(c, "the hub is stopping");
}

} // namespace

int hub_init(const ipchub_host *host, const ipchub_hub_params *params, void **state, char *err, size_t err_len) {
    FifoConfig config;
    std::string why;
    if (!parse_config(params->config_json, config, why)) return format_error(err, err_len, -EINVAL, "%s", why.c_str());
    auto *h = new (std::nothrow) Hub;
    if (!h) return format_error(err, err_len, -ENOMEM, "out of memory");
    h->host = host;
    h->dir = params->runtime_dir;
    h->register_path = register_path(h->dir);
    h->file_mode = params->file_mode;
    h->config = config;
    h->conns.set_host(host);
    *state = h;
    return 0;
}

int hub_start(void *state, char *err, size_t err_len) {
    auto *h = static_cast<Hub *>(state);
    const char *path = h->register_path.c_str();
    ::unlink(path); // a dead hub's leftover; the instance lock says nobody else owns it
    // chmod after mkfifo: the process umask may have taken bits off the mode.
    if (::mkfifo(path, h->file_mode & 0777) != 0 || ::chmod(path, h->file_mode & 0777) != 0) {
        int e = errno;
        ::unlink(path);
        return format_error(err, err_len, -e, "cannot create %s: %s", path, std::strerror(e));
    }
    // Reader first: the non-blocking write open needs one (ENXIO otherwise).
    h->register_fd = ::open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (h->register_fd >= 0) h->keepalive_fd = ::open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (h->register_fd < 0 || h->keepalive_fd < 0) {
        int e = errno;
        hub_stop(h);
        return format_error(err, err_len, -e, "cannot open %s: %s", path, std::strerror(e));
    }
    int rc = h->host->watch_fd(h->host, h->register_fd, IPCHUB_EV_READ, on_register, h);
    if (rc < 0) {
        hub_stop(h);
        return format_error(err, err_len, rc, "cannot watch %s: %s", path, std::strerror(-rc));
    }
    remove_leftovers(h->dir, Leftovers::dead_clients_only, nullptr);
    log(h, IPCHUB_LOG_DEBUG, std::string("registrations via ") + path);
    return 0;
}

void hub_stop(void *state) {
    auto *h = static_cast<Hub *>(state);
    if (h->register_fd >= 0 || h->keepalive_fd >= 0) ::unlink(h->register_path.c_str());
    // Closing the read end makes a client that is registering right now fail
    // at once (EPIPE, or POLLERR while it waits for the answer).
    plugin::close_watched(h->host, h->register_fd);
    if (h->keepalive_fd >= 0) ::close(h->keepalive_fd);
    h->keepalive_fd = -1;
    stop_pending(h);
}

int64_t hub_send(void *, void *conn, const struct iovec *iov, size_t iovcnt) {
    auto *c = static_cast<Conn *>(conn);
    Hub *h = c->hub;
    // Non-blocking: the pipe takes what fits. The hub ignores SIGPIPE, so a
    // client that closed its end is -EPIPE here, not a dead hub.
    int64_t n = plugin::stream_send(c->down_fd, plugin::StreamKind::pipe, iov, iovcnt);
    if (n < 0) return n;
    if (size_t(n) < plugin::iov_bytes(iov, iovcnt) && !c->want_write) {
        c->want_write = true;
        int rc = h->host->watch_fd(h->host, c->down_fd, IPCHUB_EV_WRITE, on_down_event, c);
        if (rc < 0) return rc;
    }
    return n;
}

void hub_set_receiving(void *, void *conn, int enabled) {
    auto *c = static_cast<Conn *>(conn);
    if (c->receiving == (enabled != 0)) return;
    c->receiving = enabled != 0;
    update_up_watch(c);
}

void hub_close(void *state, void *conn) { static_cast<Hub *>(state)->conns.close(static_cast<Conn *>(conn)); }

void hub_cleanup(void *state) {
    auto *h = static_cast<Hub *>(state);
    hub_stop(h);
    h->conns.close_all();
    // Also what clients left that we never heard of (killed mid-registration).
    std::string why;
    if (remove_leftovers(h->dir, Leftovers::all, &why) < 0) log(h, IPCHUB_LOG_WARN, why);
    delete h;
}

int sweep(const ipchub_hub_params *params, char *err, size_t err_len) {
    std::string why;
    int rc = remove_leftovers(params->runtime_dir, Leftovers::all, &why);
    if (rc < 0) return format_error(err, err_len, rc, "%s", why.c_str());
    return 0;
}

} // namespace ipchub::fifo
