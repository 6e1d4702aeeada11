// Client half of the mqueue transport: blocking with a timeout.
//
// Waiting is poll() on the queue descriptor (a mqd_t is a file descriptor on
// Linux) together with a pidfd of the hub, rather than mq_timedsend /
// mq_timedreceive: the queue never reports that the hub died, the pidfd
// does, at once, and poll's relative timeout does not jump when someone sets
// the wall clock (mq_timed* take CLOCK_REALTIME deadlines). The descriptors
// are O_NONBLOCK; every send and receive is a non-blocking call after poll.
#include "packer.hpp"
#include "client.hpp"

#include "config.hpp"
#include "hub_identity.hpp"
#include "queue_names.hpp"
#include "queue_open.hpp"
#include "wire.hpp"

#include "plugin_support.hpp"

#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>
#include <vector>

namespace ipchub::mqueue {

using plugin::Deadline;
using plugin::format_error;

namespace {

constexpr int kLivenessSliceMs = 200; // how often a wait without a hub pidfd checks the hub
constexpr int kGoodbyeWaitMs = 100;   // client_close waits this long for room for its goodbye
constexpr int kDefaultConnectMs = 5000;

std::atomic<unsigned> g_next_seq{0}; // connection number within this process: names the queues

struct Client {
    std::string up_name, down_name; // until the hub took (and unlinked) them
    unsigned seq = 0;
    uid_t hub_uid = 0; // in every queue name of the hub
    int up = -1, down = -1;
    pid_t hub_pid = 0;
    int hub_pidfd = -1; // readable once the hub exited
    size_t up_msg_size = 0, down_msg_size = 0;
    bool connected = false;
    // send side (one sender thread at a time)
    std::vector<uint8_t> tx; // one outgoing message
    // receive side (one receiver thread at a time)
    std::vector<uint8_t> rx;       // a message too big for the caller's buffer
    size_t rx_off = 0, rx_len = 0; // its undelivered bytes
    bool ended = false; // goodbye or refuse seen: the hub closed this connection
};

int slice_of(int left) { return left < 0 || left > kLivenessSliceMs ? kLivenessSliceMs : left; }

bool hub_dead(const Client *c) {
    if (c->hub_pidfd >= 0) return plugin::pidfd_exited(c->hub_pidfd);
    return c->hub_pid > 0 && !plugin::process_alive(c->hub_pid);
}

// Waits until `fd` is ready for `events` or the hub dies. Returns 1 ready,
// 0 at the deadline, -EPIPE when the hub is gone.
int wait_ready(const Client *c, int fd, short events, Deadline deadline) {
    for (;;) {
        int left = deadline.left_ms();
        pollfd p[2] = {{fd, events, 0}, {c->hub_pidfd, POLLIN, 0}};
        nfds_t n = c->hub_pidfd >= 0 ? 2 : 1;
        int rc = ::poll(p, n, c->hub_pidfd >= 0 ? left : slice_of(left));
        if (rc < 0 && errno != EINTR) return -errno;
        if (rc > 0 && n == 2 && p[1].revents) return -EPIPE;
        if (rc > 0 && p[0].revents) return 1;
        if (hub_dead(c)) return -EPIPE;
        if (deadline.passed()) return 0;
    }
}

// Sends one message, waiting for room until `deadline`. 1 sent, 0 timeout, < 0 error.
int send_message(Client *c, const uint8_t *msg, size_t len, Deadline deadline) {
    for (;;) {
        if (::mq_send(c->up, reinterpret_cast<const char *>(msg), len, 0) == 0) return 1;
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return -errno;
        int rc = wait_ready(c, c->up, POLLOUT, deadline);
        if (rc <= 0) return rc;
    }
}

// Is a hub serving the instance at all? Best effort, to fail fast when a
// killed hub left its registration queue behind: the hub's lock file names
// its pid. Unknown (no lock file, unreadable) counts as alive.
bool hub_known_dead(const std::string &runtime_dir) {
    std::string path = runtime_dir + "/hub.lock";
    FILE *f = std::fopen(path.c_str(), "re");
    if (!f) return false;
    long pid = 0;
    bool got = std::fscanf(f, "%ld", &pid) == 1;
    std::fclose(f);
    return got && pid > 0 && !plugin::process_alive(pid);
}

void discard(Client *c) {
    if (c->up >= 0) ::mq_close(c->up);
    if (c->down >= 0) ::mq_close(c->down);
    if (c->hub_pidfd >= 0) ::close(c->hub_pidfd);
    // Normally the hub unlinked them when it took them; not if it never did.
    if (!c->up_name.empty()) ::mq_unlink(c->up_name.c_str());
    if (!c->down_name.empty()) ::mq_unlink(c->down_name.c_str());
    delete c;
}

int create_own_queues(Client *c, const ipchub_client_params *params, mode_t mode, char *err, size_t err_len) {
    QueueSize want;
    std::string error;
    if (!parse_config(params->config_json, want, error))
        return format_error(err, err_len, -EINVAL, "%s", error.c_str());
    c->seq = g_next_seq.fetch_add(1);
    c->up_name = client_queue_name(params->instance, c->hub_uid, int(::getpid()), c->seq, true);
    c->down_name = client_queue_name(params->instance, c->hub_uid, int(::getpid()), c->seq, false);
    struct Spec {
        const std::string *name;
        int oflag;
        int *fd;
    };
    auto create = [&](const Spec &s) {
        int q = create_queue(*s.name, s.oflag | O_NONBLOCK, mode, want, error);
        if (q == -EEXIST) { // left by a dead process that had our pid
            ::mq_unlink(s.name->c_str());
            q = create_queue(*s.name, s.oflag | O_NONBLOCK, mode, want, error);
        }
        if (q >= 0) *s.fd = q;
        return q;
    };
    Spec up{&c->up_name, O_WRONLY, &c->up}, down{&c->down_name, O_RDONLY, &c->down};
    int rc = create(up);
    if (rc >= 0) rc = create(down);
    if ((rc == -EMFILE || rc == -ENOMEM) && c->up >= 0) {
        // The up queue took (nearly) all that was left of the budget: give it
        // back and share it, down queue first, each at the largest size that fits.
        ::mq_close(c->up);
        ::mq_unlink(c->up_name.c_str());
        c->up = -1;
        rc = create(down);
        if (rc >= 0) rc = create(up);
    }
    if (rc < 0) return format_error(err, err_len, rc, "%s", error.c_str());
    c->up_msg_size = size_t(queue_size(c->up).message_size);
    c->down_msg_size = size_t(queue_size(c->down).message_size);
    c->tx.resize(c->up_msg_size);
    c->rx.resize(c->down_msg_size);
    return 0;
}

// Takes the hub's answer to the registration. 1 welcome, < 0 refused or garbled.
int take_answer(Client *c, const uint8_t *msg, size_t n, const std::string &instance, char *err, size_t err_len) {
    Piece piece{};
    HubAnswer a{};
    if (!classify(msg, n, piece) || piece.len != sizeof a)
        return format_error(err, err_len, -EPROTO, "unexpected answer from the hub on %s", c->down_name.c_str());
    std::memcpy(&a, msg, sizeof a);
    if (a.magic != kWireMagic || a.version != kWireVersion)
        return format_error(err, err_len, -EPROTO, "the hub speaks another mqueue protocol version (%u)", unsigned(a.version));
    if (piece.kind == Kind::refuse) {
        if (a.error == ESHUTDOWN || a.error == ECONNREFUSED)
            return format_error(err, err_len, -ECONNREFUSED, "the hub of instance '%s' is shutting down", instance.c_str());
        return format_error(err, err_len, -a.error, "the hub refused the connection: %s", std::strerror(a.error));
    }
    if (piece.kind != Kind::welcome)
        return format_error(err, err_len, -EPROTO, "unexpected message from the hub before its welcome");
    c->hub_pid = a.hub_pid;
    c->hub_pidfd = plugin::open_pidfd(a.hub_pid);
    if (c->hub_pidfd < 0 && errno == ESRCH) return format_error(err, err_len, -EPIPE, "the hub exited while we connected");
    // The hub unlinked them when it took them, unless it runs as another
    // (trusted) user: /dev/mqueue is sticky, so only we can. ENOENT is normal.
    ::mq_unlink(c->up_name.c_str());
    ::mq_unlink(c->down_name.c_str());
    c->up_name.clear();
    c->down_name.clear();
    c->connected = true;
    return 1;
}

// Registers on the hub's queue and waits for its answer.
int register_with_hub(Client *c, int reg, const ipchub_client_params *params, const std::string &reg_name, char *err,
                      size_t err_len) {
    int timeout = params->connect_timeout_ms < 0 ? kDefaultConnectMs : params->connect_timeout_ms;
    Deadline deadline = Deadline::after_ms(timeout);
    std::string instance = params->instance;
    auto no_hub = [&](const char *why) {
        return format_error(err, err_len, -ECONNREFUSED, "no hub is running for instance '%s' (%s %s)", instance.c_str(),
                            reg_name.c_str(), why);
    };
    RegisterRequest req{kWireMagic, kWireVersion, 0, int32_t(::getpid()), c->seq};
    for (;;) { // the registration queue may be full for a moment when many clients connect
        if (::mq_send(reg, reinterpret_cast<const char *>(&req), sizeof req, 0) == 0) break;
        if (errno != EAGAIN && errno != EINTR)
            return format_error(err, err_len, -errno, "cannot register on %s: %s", reg_name.c_str(), std::strerror(errno));
        if (hub_known_dead(params->runtime_dir)) return no_hub("is left over from a hub that died");
        int left = deadline.left_ms();
        if (left == 0)
            return format_error(err, err_len, -ETIMEDOUT, "the hub's registration queue %s stayed full for %d ms",
                                reg_name.c_str(), timeout);
        pollfd p{reg, POLLOUT, 0};
        ::poll(&p, 1, slice_of(left));
    }
    for (;;) {
        ssize_t n = ::mq_receive(c->down, reinterpret_cast<char *>(c->rx.data()), c->rx.size(), nullptr);
        if (n >= 0) {
            int rc = take_answer(c, c->rx.data(), size_t(n), instance, err, err_len);
            return rc < 0 ? rc : 0;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN)
            return format_error(err, err_len, -errno, "cannot read %s: %s", c->down_name.c_str(), std::strerror(errno));
        // Between slices: did the hub stop, or is it a dead hub's leftover?
        mqd_t probe = ::mq_open(reg_name.c_str(), O_WRONLY | O_CLOEXEC);
        if (probe == mqd_t(-1) && errno == ENOENT) return no_hub("was removed: the hub stopped");
        if (probe != mqd_t(-1)) ::mq_close(probe);
        if (hub_known_dead(params->runtime_dir)) return no_hub("is left over from a hub that died");
        int left = deadline.left_ms();
        if (left == 0)
            return format_error(err, err_len, -ETIMEDOUT, "the hub of instance '%s' did not answer on %s within %d ms",
                                instance.c_str(), c->down_name.c_str(), timeout);
        pollfd p{c->down, POLLIN, 0};
        ::poll(&p, 1, slice_of(left));
    }
}

} // namespace

int client_connect(const ipchub_client_params *params, void **conn, char *err, size_t err_len) {
    // Queue names carry the hub's uid: our own hub's first, then those of
    // the users IPCHUB_TRUST_UID names.
    std::vector<uid_t> uids = plugin::trusted_hub_uids();
    std::string reg_name;
    mqd_t reg = mqd_t(-1);
    uid_t hub_uid = uids.front();
    for (uid_t uid : uids) {
        reg_name = register_queue_name(params->instance, uid);
        reg = ::mq_open(reg_name.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        hub_uid = uid;
        if (reg != mqd_t(-1) || errno != ENOENT) break;
    }
    if (reg == mqd_t(-1)) {
        int e = errno;
        if (e == ENOENT) reg_name = register_queue_name(params->instance, uids.front()); // name our own
        if (e == ENOENT)
            return format_error(err, err_len, -ENOENT, "no hub is running for instance '%s' (message queue %s does not exist)",
                                params->instance, reg_name.c_str());
        return format_error(err, err_len, -e, "cannot open the hub's message queue %s: %s", reg_name.c_str(), std::strerror(e));
    }
    // The queue's owner is the hub that made it: not another user's impostor.
    std::string what = "its message queue " + reg_name;
    if (int rc = plugin::check_hub_owner(int(reg), what.c_str(), params->instance, err, err_len); rc < 0) {
        ::mq_close(reg);
        return rc;
    }
    // A registration queue whose hub died (kill -9 leaves it: the next hub
    // of the instance removes it when it starts) is not a running hub: say so
    // now, before spending the per-user queue budget on queues nobody reads.
    if (hub_known_dead(params->runtime_dir)) {
        ::mq_close(reg);
        return format_error(err, err_len, -ECONNREFUSED,
                            "no hub is running for instance '%s' (message queue %s is left over from a hub that died; "
                            "the next hub of the instance removes it)",
                            params->instance, reg_name.c_str());
    }
    // Our queues get the registration queue's mode: whoever may register may
    // also talk, and a hub running as another user of the group can open them.
    struct stat st {};
    mode_t mode = ::fstat(int(reg), &st) == 0 ? mode_t(st.st_mode & 0666) : 0600;
    auto *c = new (std::nothrow) Client;
    if (!c) {
        ::mq_close(reg);
        return format_error(err, err_len, -ENOMEM, "out of memory");
    }
    c->hub_uid = hub_uid;
    int rc = create_own_queues(c, params, mode, err, err_len);
    if (rc == 0) rc = register_with_hub(c, int(reg), params, reg_name, err, err_len);
    ::mq_close(reg);
    if (rc < 0) {
        discard(c);
        return rc;
    }
    *conn = c;
    return 0;
}

// A byte stream: packs the bytes into full messages and takes what the up
// queue has room for. Waits (up to the timeout) only while nothing was taken;
// once something was, it returns rather than wait, so the caller can read
// what the hub sends meanwhile.
int64_t client_send(void *conn, const struct iovec *iov, size_t iovcnt, int timeout_ms) {
    auto *c = static_cast<Client *>(conn);
    Deadline deadline = Deadline::after_ms(timeout_ms);
    IovCursor cursor(iov, iovcnt);
    int64_t total = 0;
    while (!cursor.done()) {
        size_t taken = 0;
        size_t len = build_data(cursor, c->tx.data(), c->up_msg_size, &taken);
        int rc = send_message(c, c->tx.data(), len, total ? Deadline::after_ms(0) : deadline);
        if (rc < 0) return total ? total : rc;
        if (rc == 0) break;
        cursor.advance(taken);
        total += int64_t(taken);
    }
    return total;
}

int64_t client_recv(void *conn, void *buf, size_t cap, int timeout_ms) {
    auto *c = static_cast<Client *>(conn);
    auto *out = static_cast<uint8_t *>(buf);
    if (cap == 0) return 0;
    if (c->rx_off < c->rx_len) { // the rest of a message a small buffer could not take
        size_t take = std::min(cap, c->rx_len - c->rx_off);
        std::memcpy(out, c->rx.data() + c->rx_off, take);
        c->rx_off += take;
        return int64_t(take);
    }
    Deadline deadline = Deadline::after_ms(timeout_ms);
    bool hub_gone = false;
    size_t got = 0;
    while (got < cap && !c->ended) {
        // Straight into the caller's buffer when a whole message fits.
        bool direct = cap - got >= c->down_msg_size;
        uint8_t *dst = direct ? out + got : c->rx.data();
        ssize_t n = ::mq_receive(c->down, reinterpret_cast<char *>(dst), direct ? cap - got : c->rx.size(), nullptr);
        if (n >= 0) {
            Piece piece{};
            if (!classify(dst, size_t(n), piece)) return got ? int64_t(got) : -EPROTO;
            if (piece.kind == Kind::goodbye || piece.kind == Kind::refuse) {
                c->ended = true;
                break;
            }
            if (piece.kind != Kind::data) return got ? int64_t(got) : -EPROTO;
            if (direct) {
                got += piece.len;
                continue;
            }
            size_t take = std::min(cap - got, piece.len);
            std::memcpy(out + got, dst, take);
            got += take;
            c->rx_off = take;
            c->rx_len = piece.len;
            if (take < piece.len) break;
            continue;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN) return got ? int64_t(got) : -errno;
        if (got || hub_gone) break; // return what we have rather than wait for more
        int rc = wait_ready(c, c->down, POLLIN, deadline);
        if (rc == 0) return 0;
        // The hub died: what it queued before is still delivered, then -EPIPE.
        if (rc < 0) hub_gone = true;
    }
    if (got == 0 && (c->ended || hub_gone)) return -EPIPE;
    return int64_t(got);
}

void client_close(void *conn) {
    auto *c = static_cast<Client *>(conn);
    if (c->connected && !c->ended && !hub_dead(c)) {
        // Best effort: tell the hub now instead of letting it find out when
        // this process exits.
        uint8_t msg[kMinMessageSize];
        size_t len = build_control(Kind::goodbye, nullptr, 0, msg);
        send_message(c, msg, len, Deadline::after_ms(kGoodbyeWaitMs));
    }
    discard(c);
}

} // namespace ipchub::mqueue
