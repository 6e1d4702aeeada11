// Hub half of the mqueue transport. Everything runs on the hub's event loop:
// on Linux a mqd_t is a file descriptor, so the registration queue and each
// client's up queue are watched for reading, a client's down queue for
// writing while it is full, and the client's pidfd for its death. All hub
// descriptors are O_NONBLOCK; nothing here ever waits.
#include "packer.hpp"
#include "hub.hpp"

#include "config.hpp"
#include "queue_names.hpp"
#include "queue_open.hpp"
#include "wire.hpp"

#include "plugin_support.hpp"
#include "repeated_warning.hpp"

#include <fcntl.h>
#include <mqueue.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace ipchub::mqueue {

using plugin::format_error;

namespace {

constexpr size_t kReceiveBatch = 256 * 1024; // bytes handed to conn_received at once
constexpr int kMessagesPerWakeup = 256;      // then let other connections have a turn
constexpr uint32_t kHousekeepingMs = 250;    // goodbyes to full queues; liveness without pidfd
constexpr long kRegisterSlots = 10;          // registrations waiting at once (~1.6 KB of the budget)

struct Hub;

struct Conn {
    Hub *hub = nullptr;
    int up = -1, down = -1, pidfd = -1;
    pid_t pid = 0;
    size_t up_msg_size = 0, down_msg_size = 0;
    void *host_conn = nullptr;
    bool receiving = true;
    bool want_write = false;      // down is full: watched for writing
    bool closing = false;    // hub_close'd: only the goodbye remains to send

    void teardown(const ipchub_host *host) {
        plugin::close_watched(host, up);
        plugin::close_watched(host, down);
        plugin::close_watched(host, pidfd);
    }
};

struct Hub {
    const ipchub_host *host = nullptr;
    std::string instance, reg_name;
    uid_t uid = 0; // the effective uid, part of every queue name
    mode_t mode = 0600;
    QueueSize want;
    int reg = -1;
    int64_t timer = 0;
    plugin::ConnectionSet<Conn> conns; // open ones and closing ones
    std::vector<uint8_t> rx = std::vector<uint8_t>(kReceiveBatch);
    std::vector<uint8_t> tx; // one outgoing message
    plugin::RepeatedWarning garbage_warning; // malformed registrations: one line per burst
};

void log(Hub *h, int level, const std::string &text) { h->host->log(h->host, level, text.c_str()); }

uint8_t *tx_buffer(Hub *h, size_t msg_size) {
    if (h->tx.size() < msg_size) h->tx.resize(msg_size);
    return h->tx.data();
}

void on_down_writable(void *user, int, uint32_t events);

void set_write_watch(Conn *c, bool on) {
    if (c->want_write == on) return;
    c->want_write = on;
    Hub *h = c->hub;
    if (on)
        h->host->watch_fd(h->host, c->down, IPCHUB_EV_WRITE, on_down_writable, c);
    else
        h->host->unwatch_fd(h->host, c->down);
}

int send_control(int mqd, Kind kind, const void *body, size_t body_len) {
    uint8_t msg[kMinMessageSize];
    size_t len = build_control(kind, body, body_len, msg);
    return ::mq_send(mqd, reinterpret_cast<char *>(msg), len, 0) == 0 ? 0 : -errno;
}

HubAnswer answer(int error) { return HubAnswer{kWireMagic, kWireVersion, 0, int32_t(::getpid()), int32_t(error)}; }

// A closing connection: send the goodbye behind everything queued. Returns
// true when done (or hopeless): the caller frees it.
bool finish_closing(Conn *c) { return send_control(c->down, Kind::goodbye, nullptr, 0) != -EAGAIN; }

void on_down_writable(void *user, int, uint32_t) {
    auto *c = static_cast<Conn *>(user);
    Hub *h = c->hub;
    if (c->closing) {
        if (finish_closing(c)) c->hub->conns.close(c);
        return;
    }
    set_write_watch(c, false); // hub_send watches again if it fills the queue
    h->host->conn_writable(h->host, c->host_conn);
}

enum class ReadResult { drained, paused, goodbye, broken };

// Reads up to a wake-up's worth of messages from the client's up queue and
// hands the frame bytes to the hub in batches. Trailers are stepped over in
// place: the next message is received right over the previous trailer.
ReadResult read_up(Conn *c, int max_messages) {
    Hub *h = c->hub;
    uint8_t *buf = h->rx.data();
    size_t pos = 0;
    ReadResult result = ReadResult::paused; // "more may be there"
    auto deliver = [&] {
        if (pos) h->host->conn_received(h->host, c->host_conn, buf, pos);
        pos = 0;
    };
    for (int i = 0; i < max_messages; ++i) {
        if (h->rx.size() - pos < c->up_msg_size) {
            deliver();
            if (!c->receiving) break; // the hub paused us while taking that batch
        }
        ssize_t n = ::mq_receive(c->up, reinterpret_cast<char *>(buf + pos), h->rx.size() - pos, nullptr);
        if (n < 0) {
            if (errno == EINTR) continue;
            result = errno == EAGAIN ? ReadResult::drained : ReadResult::broken;
            break;
        }
        Piece piece{};
        if (!classify(buf + pos, size_t(n), piece)) {
            result = ReadResult::broken;
            break;
        }
        if (piece.kind == Kind::goodbye) {
            result = ReadResult::goodbye;
            break;
        }
        if (piece.kind != Kind::data) { // welcome/refuse travel hub -> client only
            result = ReadResult::broken;
            break;
        }
        pos += piece.len;
    }
    deliver();
    return result;
}

void on_up_readable(void *user, int, uint32_t) {
    auto *c = static_cast<Conn *>(user);
    if (!c->receiving) return;
    switch (read_up(c, kMessagesPerWakeup)) {
    case ReadResult::drained:
    case ReadResult::paused: return;
    case ReadResult::goodbye: return (void)c->hub->conns.lost(c, 0);
    case ReadResult::broken:
        log(c->hub, IPCHUB_LOG_WARN, "client pid " + std::to_string(c->pid) + " sent a malformed queue message");
        return (void)c->hub->conns.lost(c, EPROTO);
    }
}

// The client process exited. What it queued before dying is still read
// (a publisher killed right after publishing), unless it is paused.
void on_client_exit(void *user, int, uint32_t) {
    auto *c = static_cast<Conn *>(user);
    if (c->closing) return c->hub->conns.close(c);
    ReadResult r = ReadResult::drained;
    for (int round = 0; c->receiving && round < 64; ++round) {
        r = read_up(c, kMessagesPerWakeup);
        if (r != ReadResult::paused) break;
    }
    c->hub->conns.lost(c, r == ReadResult::goodbye ? 0 : ECONNRESET);
}

void housekeeping(void *user) {
    auto *h = static_cast<Hub *>(user);
    for (Conn *c : h->conns.snapshot()) {
        if (c->closing && !c->want_write) {
            if (finish_closing(c) || !plugin::process_alive(c->pid)) c->hub->conns.close(c);
        } else if (!c->closing && c->pidfd < 0 && !plugin::process_alive(c->pid)) { // kernel without pidfd_open
            on_client_exit(c, -1, 0);
        }
    }
}

void unlink_client_queues(Hub *h, const RegisterRequest &req) {
    ::mq_unlink(client_queue_name(h->instance, h->uid, req.pid, req.seq, true).c_str());
    ::mq_unlink(client_queue_name(h->instance, h->uid, req.pid, req.seq, false).c_str());
}

// Answers a registration with a refusal (hub stopping).
void refuse(Hub *h, const RegisterRequest &req, int error) {
    std::string down = client_queue_name(h->instance, h->uid, req.pid, req.seq, false);
    mqd_t q = ::mq_open(down.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (q != mqd_t(-1)) {
        HubAnswer a = answer(error);
        send_control(int(q), Kind::refuse, &a, sizeof a);
        ::mq_close(q);
    }
    unlink_client_queues(h, req);
}

void accept_client(Hub *h, const RegisterRequest &req) {
    std::string up_name = client_queue_name(h->instance, h->uid, req.pid, req.seq, true);
    std::string down_name = client_queue_name(h->instance, h->uid, req.pid, req.seq, false);
    auto *c = new (std::nothrow) Conn;
    if (!c) return refuse(h, req, ENOMEM);
    c->hub = h;
    c->pid = req.pid;
    c->up = int(::mq_open(up_name.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    c->down = int(::mq_open(down_name.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    c->pidfd = plugin::open_pidfd(req.pid);
    int pidfd_errno = c->pidfd < 0 ? errno : 0;
    // From here on the queues are reached through descriptors only: the names
    // go at once, so nothing of this connection can be left behind by a crash.
    unlink_client_queues(h, req);
    auto give_up = [&](const std::string &why) {
        log(h, IPCHUB_LOG_DEBUG, "registration of pid " + std::to_string(req.pid) + " dropped: " + why);
        for (int fd : {c->up, c->down, c->pidfd})
            if (fd >= 0) ::close(fd);
        delete c;
    };
    if (c->up < 0 || c->down < 0) return give_up("its queues are gone (the client gave up)");
    if (pidfd_errno == ESRCH) return give_up("the process is gone");
    c->up_msg_size = size_t(queue_size(c->up).message_size);
    c->down_msg_size = size_t(queue_size(c->down).message_size);
    if (c->up_msg_size < kMinMessageSize || c->down_msg_size < kMinMessageSize) {
        HubAnswer a = answer(EMSGSIZE);
        send_control(c->down, Kind::refuse, &a, sizeof a);
        return give_up("queue message size below " + std::to_string(kMinMessageSize) + " bytes");
    }
    std::string peer = "pid " + std::to_string(req.pid);
    c->host_conn = h->host->conn_opened(h->host, c, peer.c_str());
    if (!c->host_conn) {
        HubAnswer a = answer(ECONNREFUSED);
        send_control(c->down, Kind::refuse, &a, sizeof a);
        return give_up("the hub refuses new connections");
    }
    h->conns.add(c);
    HubAnswer a = answer(0);
    if (send_control(c->down, Kind::welcome, &a, sizeof a) != 0) return (void)c->hub->conns.lost(c, EPROTO); // a fresh queue is never full
    h->host->watch_fd(h->host, c->up, IPCHUB_EV_READ, on_up_readable, c);
    if (c->pidfd >= 0) h->host->watch_fd(h->host, c->pidfd, IPCHUB_EV_READ, on_client_exit, c);
}

enum class Next { none, request, malformed };

// Reads one message of the registration queue. A malformed one counts as a
// read (the caller's budget bounds how long garbage can keep the loop busy).
Next next_registration(Hub *h, RegisterRequest &req) {
    alignas(RegisterRequest) char msg[kRegisterMessageSize];
    ssize_t n;
    do n = ::mq_receive(h->reg, msg, sizeof msg, nullptr);
    while (n < 0 && errno == EINTR);
    if (n < 0) return Next::none;
    std::memcpy(&req, msg, std::min(sizeof req, size_t(n)));
    if (size_t(n) == sizeof req && req.magic == kWireMagic && req.version == kWireVersion && req.pid > 0) return Next::request;
    h->garbage_warning.report(h->host, IPCHUB_LOG_WARN,
                              "ignored a malformed registration (" + std::to_string(n) + " bytes)");
    return Next::malformed;
}

void on_register(void *user, int, uint32_t) {
    auto *h = static_cast<Hub *>(user);
    RegisterRequest req{};
    // Bounded: what is left is read on the next loop turn (still readable).
    for (int i = 0; i < kMessagesPerWakeup; ++i) {
        Next got = next_registration(h, req);
        if (got == Next::none) break;
        if (got == Next::request) accept_client(h, req);
    }
}

} // namespace

int hub_init(const ipchub_host *host, const ipchub_hub_params *params, void **state, char *err, size_t err_len) {
    auto *h = new (std::nothrow) Hub;
    if (!h) return format_error(err, err_len, -ENOMEM, "out of memory");
    h->host = host;
    h->instance = params->instance;
    h->uid = ::geteuid();
    h->reg_name = register_queue_name(h->instance, h->uid);
    h->mode = mode_t(params->file_mode & 0777);
    std::string error;
    if (!parse_config(params->config_json, h->want, error)) {
        delete h;
        return format_error(err, err_len, -EINVAL, "%s", error.c_str());
    }
    h->conns.set_host(host);
    *state = h;
    return 0;
}

int hub_start(void *state, char *err, size_t err_len) {
    auto *h = static_cast<Hub *>(state);
    // A dead hub's leftover (the instance lock says no live hub owns it), if ours.
    if (int rc = unlink_own_queue(h->reg_name); rc == -EPERM)
        return format_error(err, err_len, -EEXIST, "%s exists and belongs to another user; not removing it", h->reg_name.c_str());
    QueueSize size{std::min(kRegisterSlots, read_system_limits().msg_max), kRegisterMessageSize};
    std::string error;
    int q = create_queue(h->reg_name, O_RDONLY | O_NONBLOCK, h->mode, size, error);
    if (q < 0) return format_error(err, err_len, q, "%s", error.c_str());
    h->reg = q;
    int rc = h->host->watch_fd(h->host, q, IPCHUB_EV_READ, on_register, h);
    if (rc < 0) return format_error(err, err_len, rc, "cannot watch %s: %s", h->reg_name.c_str(), std::strerror(-rc));
    int64_t timer = h->host->add_timer(h->host, kHousekeepingMs, 1, housekeeping, h);
    if (timer < 0) return format_error(err, err_len, int(timer), "cannot add a timer: %s", std::strerror(int(-timer)));
    h->timer = timer;
    QueueSize got = queue_size(q);
    log(h, IPCHUB_LOG_DEBUG,
        "listening on " + h->reg_name + " (" + std::to_string(got.max_messages) + " x " +
            std::to_string(got.message_size) + " bytes); client queues ask for " +
            std::to_string(h->want.max_messages) + " x " + std::to_string(h->want.message_size) + " bytes (~" +
            std::to_string(2 * queue_budget_bytes(h->want)) +
            " bytes of RLIMIT_MSGQUEUE per client; smaller when the budget runs short)");
    return 0;
}

void hub_stop(void *state) {
    auto *h = static_cast<Hub *>(state);
    if (h->reg < 0) return;
    h->host->unwatch_fd(h->host, h->reg);
    ::mq_unlink(h->reg_name.c_str()); // no new registrations from here on
    RegisterRequest req{};
    // Those already queued get a clear answer. Bounded: a client that still
    // holds the queue open could keep writing to it.
    for (int i = 0; i < kMessagesPerWakeup; ++i) {
        Next got = next_registration(h, req);
        if (got == Next::none) break;
        if (got == Next::request) refuse(h, req, ESHUTDOWN);
    }
    ::mq_close(h->reg);
    h->reg = -1;
}

// A byte stream: takes as many bytes as the down queue has room for, packed
// into full messages (the last one may be short), and nothing it could not
// queue: the hub offers the rest again after conn_writable.
int64_t hub_send(void *, void *conn, const struct iovec *iov, size_t iovcnt) {
    auto *c = static_cast<Conn *>(conn);
    uint8_t *msg = tx_buffer(c->hub, c->down_msg_size);
    IovCursor cursor(iov, iovcnt);
    int64_t taken_total = 0;
    while (!cursor.done()) {
        size_t taken = 0;
        size_t len = build_data(cursor, msg, c->down_msg_size, &taken);
        if (::mq_send(c->down, reinterpret_cast<char *>(msg), len, 0) == 0) {
            cursor.advance(taken);
            taken_total += int64_t(taken);
            continue;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && !taken_total) return -errno;
        // Full (or failing after a partial send): the write watch brings the
        // hub back for the rest, and a failing queue reports its error then.
        set_write_watch(c, true);
        break;
    }
    return taken_total;
}

void hub_set_receiving(void *, void *conn, int enabled) {
    auto *c = static_cast<Conn *>(conn);
    if (c->receiving == (enabled != 0)) return;
    c->receiving = enabled != 0;
    Hub *h = c->hub;
    if (c->receiving)
        h->host->watch_fd(h->host, c->up, IPCHUB_EV_READ, on_up_readable, c);
    else
        h->host->unwatch_fd(h->host, c->up);
}

void hub_close(void *, void *conn) {
    auto *c = static_cast<Conn *>(conn);
    Hub *h = c->hub;
    h->host->unwatch_fd(h->host, c->up);
    ::close(c->up);
    c->up = -1;
    c->host_conn = nullptr;
    c->closing = true;
    // The goodbye goes after everything already queued (same priority), so
    // the client reads all it was sent and then learns the connection ended.
    // (A frame the hub cut short ends mid-stream: the client's frame reader
    // reports that, not the transport.)
    // If the queue is full it is finished later: by the write watch if one is
    // active, else by the housekeeping timer (no watch_fd from hub_close).
    if (finish_closing(c)) c->hub->conns.close(c);
}

void hub_cleanup(void *state) {
    auto *h = static_cast<Hub *>(state);
    hub_stop(h);
    if (h->timer > 0) h->host->cancel_timer(h->host, h->timer);
    h->conns.close_all();
    // Queues of clients that died between creating them and registering.
    unlink_instance_queues(h->instance, h->uid);
    delete h;
}

int sweep(const ipchub_hub_params *params, char *err, size_t err_len) {
    std::string instance = params->instance;
    std::string reg = register_queue_name(instance, ::geteuid());
    if (int rc = unlink_own_queue(reg); rc < 0 && rc != -ENOENT)
        return format_error(err, err_len, rc, "cannot remove %s: %s", reg.c_str(),
                            rc == -EPERM ? "it belongs to another user" : std::strerror(-rc));
    // Client queues carry pids in their names: they can only be found by
    // listing the mqueue file system. Not mounted: nothing more to find.
    unlink_instance_queues(instance, ::geteuid());
    return 0;
}

} // namespace ipchub::mqueue
