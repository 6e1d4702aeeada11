// Shared memory transport: the ABI glue around ring.*, segment.* and
// registration.* (docs/transports/shm.md has the whole design).
//
// Every client gets one segment with two SPSC rings (client->hub "to_hub",
// hub->client "to_client"); the transport is a byte stream (capabilities 0):
// hub_send / client_send take as many bytes as fit, so frames of any size
// (also larger than the ring) pass in pieces and the frame readers on both
// ends reassemble them.
//
// Waking: the client sleeps on the rings' process-shared semaphores (items
// of to_client, spaces of to_hub). The hub cannot sleep on a semaphore inside
// its epoll loop, so its side of both rings is woken through one eventfd per
// connection (the "doorbell"), created by the hub and passed to the client
// with the segment. Either side signals only when the other announced that it
// sleeps (the ring's *_waiting flags), so a busy stream costs no system call.
// The doorbell is watched edge-triggered where the host allows it (ABI 1.1),
// so the hub never reads it: one system call less per wake-up.
//
// Spinning (hub setting spin_us > 0, docs/benchmarks.md): the hub polls the
// rings through hub_poll and keeps its "waiting" flags down while it does, so
// clients write without ringing; clients learn spin_us in the registration
// reply and poll their rings as long before they sleep on a semaphore.
#include <ipchub/plugin.h>

#include "plugin_support.hpp"
#include "registration.hpp"
#include "segment.hpp"

#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

using ipchub::plugin::format_error;
using ipchub::plugin::monotonic_ms;
using ipchub::plugin::spin_until;
namespace shm = ipchub::shm;

constexpr uint64_t kDefaultRingBytes = 1024 * 1024;
constexpr size_t kDrainChunk = 256 * 1024;      // hub copies out of a ring in pieces of this size
constexpr size_t kDrainPerWakeup = 1024 * 1024; // then let other connections have a turn
constexpr int kWaitSliceMs = 200;               // a sleeping client checks the hub's liveness this often
constexpr size_t kMaxIov = 64;

void ring_doorbell(int fd) {
    uint64_t one = 1;
    ssize_t n = ::write(fd, &one, sizeof one); // EAGAIN only when the counter is saturated: already rung
    (void)n;
}

// Gathers the iovecs after skipping `skip` bytes into `out` (at most kMaxIov).
size_t skip_iov(const iovec *iov, size_t iovcnt, size_t skip, iovec *out) {
    size_t n = 0;
    for (size_t i = 0; i < iovcnt && n < kMaxIov; ++i) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        out[n].iov_base = static_cast<char *>(iov[i].iov_base) + skip;
        out[n].iov_len = iov[i].iov_len - skip;
        skip = 0;
        ++n;
    }
    return n;
}

// Writes as much of iov (from byte `taken` on) as the ring takes now: one
// record, or more when the consumer frees space meanwhile. Wakes a sleeping
// consumer through `wake`. Returns the new `taken` or a negative errno.
template <typename Wake> int64_t write_available(shm::Ring &ring, const iovec *iov, size_t iovcnt, size_t total,
                                                 size_t taken, Wake &&wake) {
    size_t before = taken;
    while (taken < total) {
        iovec rest[kMaxIov];
        size_t n = skip_iov(iov, iovcnt, taken, rest);
        int64_t w = ring.write_stream(rest, n);
        if (w < 0) return w;
        if (w == 0) break;
        taken += size_t(w);
    }
    if (taken != before && ring.consumer_needs_wake()) wake();
    return int64_t(taken);
}

// ---------------------------------------------------------------- hub half

struct Hub;

// A client that connected to shm.sock and has not said hello yet.
struct Pending {
    Hub *hub;
    int fd;
    std::string peer;
};

struct Conn {
    Hub *hub;
    int sock;     // registration socket: liveness only
    int doorbell; // eventfd: the client rings it when the hub sleeps
    shm::Segment seg;
    void *host_conn = nullptr;
    bool receiving = true;
    bool want_space = false; // hub_send returned short: conn_writable owed
    bool hung_up = false;    // client gone while paused: close once drained
};

struct Hub {
    const ipchub_host *host = nullptr;
    std::string instance;
    std::string path;
    uint32_t file_mode = 0600;
    uint64_t ring_bytes = kDefaultRingBytes;
    uint32_t spin_us = 0;  // the hub's spin setting, passed on to clients
    bool edge = false;     // the host has IPCHUB_EV_EDGE: doorbells are never read
    bool spinning = false; // between hub_poll(0) and hub_poll(1): clients need not ring
    int listen_fd = -1;
    unsigned next_segment = 0;
    std::unordered_set<Pending *> pending;
    std::unordered_set<Conn *> conns;
    std::vector<uint8_t> buffer = std::vector<uint8_t>(kDrainChunk);
};

void log(Hub *h, int level, const std::string &text) { h->host->log(h->host, level, text.c_str()); }

void free_conn(Conn *c) {
    Hub *h = c->hub;
    h->host->unwatch_fd(h->host, c->sock);
    h->host->unwatch_fd(h->host, c->doorbell);
    ::close(c->sock);
    ::close(c->doorbell);
    c->seg.unmap(); // the client's mapping (if it lives) keeps the memory; else it is freed now
    h->conns.erase(c);
    delete c;
}

// The client went away (or broke the ring): report it, free it.
void drop(Conn *c, int reason) {
    void *host_conn = c->host_conn;
    const ipchub_host *host = c->hub->host;
    free_conn(c);
    host->conn_closed(host, host_conn, reason);
}

// Moves what the client wrote to the hub, up to `budget` bytes. Returns false
// when the connection was dropped (corrupt ring). Ends by announcing that the
// hub sleeps (so the client rings the doorbell) unless it stopped early.
bool drain(Conn *c, size_t budget, bool *more) {
    Hub *h = c->hub;
    shm::Ring &ring = c->seg.to_hub;
    *more = false;
    while (c->receiving) {
        if (budget == 0) {
            *more = true;
            return true;
        }
        int64_t n = ring.read_stream(h->buffer.data(), h->buffer.size() < budget ? h->buffer.size() : budget);
        if (n < 0) {
            log(h, IPCHUB_LOG_WARN, "closing a client whose ring is corrupt");
            drop(c, EPROTO);
            return false;
        }
        if (n == 0) {
            if (h->spinning) return true;                   // hub_poll looks again soon
            if (ring.consumer_prepare_sleep()) return true; // empty; the client rings when it writes
            continue;                                       // data arrived meanwhile
        }
        budget -= size_t(n);
        if (ring.producer_needs_wake()) sem_post(&ring.header()->spaces);
        h->host->conn_received(h->host, c->host_conn, h->buffer.data(), size_t(n));
    }
    return true;
}

// hub_send came back short: has the client made room since? Then tell the
// hub (true). Else stay armed: the client rings the doorbell after reading.
bool check_space(Conn *c) {
    Hub *h = c->hub;
    int64_t room = c->seg.to_client.free_space();
    if (room < 0 || size_t(room) > shm::kRecordHeader) {
        c->want_space = false;
        c->seg.to_client.producer_cancel_sleep();
        h->host->conn_writable(h->host, c->host_conn);
        return true;
    }
    if (!c->seg.to_client.producer_prepare_sleep(shm::kRecordHeader + 1)) {
        c->want_space = false; // freed between the two looks
        h->host->conn_writable(h->host, c->host_conn);
        return true;
    }
    return false;
}

void on_doorbell(void *user, int fd, uint32_t) {
    auto *c = static_cast<Conn *>(user);
    Hub *h = c->hub;
    if (!h->edge) { // level-triggered (ABI 1.0 host): reset it, or it fires for ever
        uint64_t count;
        ssize_t r = ::read(fd, &count, sizeof count); // the rings say what happened
        (void)r;
    }
    if (c->want_space) check_space(c);
    if (!c->receiving) return;
    bool more = false;
    if (!drain(c, kDrainPerWakeup, &more)) return;
    if (more) {
        ring_doorbell(c->doorbell); // come back on the next loop turn
        return;
    }
    if (c->hung_up && c->receiving && c->seg.to_hub.empty()) drop(c, 0);
}

// EOF (or error) on the registration socket: the client closed or died.
void on_sock(void *user, int fd, uint32_t) {
    auto *c = static_cast<Conn *>(user);
    Hub *h = c->hub;
    char byte;
    ssize_t n = ::recv(fd, &byte, 1, MSG_DONTWAIT);
    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR))) return; // nothing is sent after hello: ignore
    // Orderly when client_close said so; else the client died (kill -9, crash).
    int reason = n < 0 ? errno : c->seg.header->client_closed.load() ? 0 : ECONNRESET;
    // Whatever the client wrote before it went is still delivered.
    c->hung_up = true;
    h->host->unwatch_fd(h->host, c->sock);
    bool more = true;
    while (c->receiving && more)
        if (!drain(c, SIZE_MAX, &more)) return;
    if (c->receiving) drop(c, reason); // else: dropped once resumed and drained (on_doorbell)
}

void refuse(Pending *p, int status, const std::string &why) {
    shm::HubReply reply{};
    reply.magic = shm::kHelloMagic;
    reply.layout_version = shm::kLayoutVersion;
    reply.status = status;
    std::snprintf(reply.text, sizeof reply.text, "%s", why.c_str());
    shm::send_with_fds(p->fd, &reply, sizeof reply, nullptr, 0);
    log(p->hub, IPCHUB_LOG_WARN, "refused a client (" + p->peer + "): " + why);
}

void drop_pending(Pending *p) {
    p->hub->host->unwatch_fd(p->hub->host, p->fd);
    ::close(p->fd);
    p->hub->pending.erase(p);
    delete p;
}

// The client's hello: check its layout, create its segment and doorbell,
// send both, then the connection is the hub's.
void on_hello(void *user, int fd, uint32_t) {
    auto *p = static_cast<Pending *>(user);
    Hub *h = p->hub;
    shm::ClientHello hello{};
    ssize_t n = ::recv(fd, &hello, sizeof hello, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) return drop_pending(p); // went away before saying hello
    if (size_t(n) != sizeof hello || hello.magic != shm::kHelloMagic) {
        refuse(p, -EPROTO, "not an ipchub shm client (bad hello)");
        return drop_pending(p);
    }
    if (hello.layout_version != shm::kLayoutVersion) {
        refuse(p, -EPROTO,
               "shm layout version " + std::to_string(hello.layout_version) + " of the client differs from the hub's " +
                   std::to_string(shm::kLayoutVersion) + ": use a client built from the same ipchub version as the hub");
        return drop_pending(p);
    }
    auto *c = new (std::nothrow) Conn{h, fd, -1, {}};
    if (!c) return drop_pending(p);
    std::string err;
    int seg_fd = shm::create_segment(shm::segment_name(h->instance, ::getpid(), h->next_segment++), h->ring_bytes,
                                     h->file_mode, c->seg, err);
    c->doorbell = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (seg_fd < 0 || c->doorbell < 0) {
        if (seg_fd >= 0) ::close(seg_fd);
        if (c->doorbell < 0) err = std::string("eventfd: ") + std::strerror(errno);
        else ::close(c->doorbell);
        c->seg.unmap();
        delete c;
        refuse(p, -ENOMEM, "the hub cannot create a shared segment: " + err);
        return drop_pending(p);
    }
    c->seg.header->client_pid = hello.pid;
    shm::HubReply reply{};
    reply.magic = shm::kHelloMagic;
    reply.layout_version = shm::kLayoutVersion;
    reply.ring_bytes = h->ring_bytes;
    reply.spin_us = h->spin_us;
    int fds[2] = {seg_fd, c->doorbell};
    int rc = shm::send_with_fds(fd, &reply, sizeof reply, fds, 2);
    ::close(seg_fd); // our mapping stays; the client has its own descriptor now
    std::string peer = p->peer;
    h->host->unwatch_fd(h->host, fd);
    h->pending.erase(p);
    delete p; // the socket now belongs to the connection
    if (rc < 0) {
        ::close(c->sock);
        ::close(c->doorbell);
        c->seg.unmap();
        delete c;
        return;
    }
    c->host_conn = h->host->conn_opened(h->host, c, peer.c_str());
    if (!c->host_conn) { // shutting down
        ::close(c->sock);
        ::close(c->doorbell);
        c->seg.unmap();
        delete c;
        return;
    }
    h->conns.insert(c);
    h->host->watch_fd(h->host, c->sock, IPCHUB_EV_READ, on_sock, c);
    h->host->watch_fd(h->host, c->doorbell, IPCHUB_EV_READ | (h->edge ? IPCHUB_EV_EDGE : 0u), on_doorbell, c);
}

void on_accept(void *user, int, uint32_t) {
    auto *h = static_cast<Hub *>(user);
    for (;;) {
        int fd = ::accept4(h->listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) log(h, IPCHUB_LOG_WARN, "accept: out of file descriptors");
            return;
        }
        ucred cred{};
        socklen_t len = sizeof cred;
        std::string peer;
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) peer = "pid " + std::to_string(cred.pid);
        auto *p = new (std::nothrow) Pending{h, fd, peer};
        if (!p) {
            ::close(fd);
            continue;
        }
        h->pending.insert(p);
        h->host->watch_fd(h->host, fd, IPCHUB_EV_READ, on_hello, p);
    }
}

int parse_config(const char *json, uint64_t &ring_bytes, char *err, size_t err_len) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(json && *json ? json : "{}");
    } catch (const std::exception &e) {
        return format_error(err, err_len, -EINVAL, "config is not valid JSON: %s", e.what());
    }
    if (!j.is_object()) return format_error(err, err_len, -EINVAL, "config must be a JSON object");
    for (auto &[key, value] : j.items()) {
        if (key != "ring_bytes")
            return format_error(err, err_len, -EINVAL, "unknown config key \"%s\" (known: ring_bytes)", key.c_str());
        if (!value.is_number_unsigned() || !shm::valid_ring_bytes(value.get<uint64_t>()))
            return format_error(err, err_len, -EINVAL,
                                "config ring_bytes must be a power of two from %zu to %zu (got %s)", shm::kMinRingBytes,
                                shm::kMaxRingBytes, value.dump().c_str());
        ring_bytes = value.get<uint64_t>();
    }
    return 0;
}

int hub_init(const ipchub_host *host, const ipchub_hub_params *params, void **state, char *err, size_t err_len) {
    uint64_t ring_bytes = kDefaultRingBytes;
    int rc = parse_config(params->config_json, ring_bytes, err, err_len);
    if (rc < 0) return rc;
    auto *h = new (std::nothrow) Hub;
    if (!h) return format_error(err, err_len, -ENOMEM, "out of memory");
    h->host = host;
    h->instance = params->instance;
    h->path = shm::registration_path(params->runtime_dir);
    h->file_mode = params->file_mode;
    h->ring_bytes = ring_bytes;
    if (IPCHUB_HAS_MEMBER(params, ipchub_hub_params, spin_us)) h->spin_us = params->spin_us;
    h->edge = IPCHUB_ABI_MINOR(host->abi_version) >= 1;
    if ((rc = ipchub::plugin::check_socket_path(h->path, err, err_len)) < 0) {
        delete h;
        return rc;
    }
    *state = h;
    return 0;
}

int hub_start(void *state, char *err, size_t err_len) {
    auto *h = static_cast<Hub *>(state);
    int fd = ipchub::plugin::listen_unix(h->path, SOCK_SEQPACKET, h->file_mode, err, err_len);
    if (fd < 0) return fd;
    h->listen_fd = fd;
    int rc = h->host->watch_fd(h->host, fd, IPCHUB_EV_READ, on_accept, h);
    if (rc < 0) return format_error(err, err_len, rc, "cannot watch the listening socket: %s", std::strerror(-rc));
    log(h, IPCHUB_LOG_DEBUG, "listening on " + h->path + ", rings of " + std::to_string(h->ring_bytes) + " bytes");
    return 0;
}

// No threads of our own to stop: everything runs on the hub's loop.
void hub_stop(void *state) {
    auto *h = static_cast<Hub *>(state);
    while (!h->pending.empty()) drop_pending(*h->pending.begin());
    if (h->listen_fd < 0) return;
    h->host->unwatch_fd(h->host, h->listen_fd);
    ::close(h->listen_fd);
    h->listen_fd = -1;
    ::unlink(h->path.c_str());
}

int64_t hub_send(void *, void *conn, const struct iovec *iov, size_t iovcnt) {
    auto *c = static_cast<Conn *>(conn);
    // The client is gone (its socket hung up): nobody will ever read this
    // ring, so a backlog waiting for room would wait for ever. Say so; the
    // hub then closes the connection.
    if (c->hung_up) return -EPIPE;
    shm::Ring &ring = c->seg.to_client;
    size_t total = 0;
    for (size_t i = 0; i < iovcnt; ++i) total += iov[i].iov_len;
    auto wake = [&] { sem_post(&ring.header()->items); };
    int64_t taken = write_available(ring, iov, iovcnt, total, 0, wake);
    while (taken >= 0 && size_t(taken) < total) {
        // Full: announce that we wait for space, then look once more (so a
        // client that read in between cannot be missed).
        if (ring.producer_prepare_sleep(shm::kRecordHeader + 1)) {
            c->want_space = true; // the client rings the doorbell after it read
            break;
        }
        taken = write_available(ring, iov, iovcnt, total, size_t(taken), wake);
    }
    return taken;
}

// The hub spins: move what is in the rings without being rung. While it
// spins the rings' "hub sleeps" flags stay down, so clients write without a
// system call; before it sleeps they go up again (and a ring that filled in
// between counts as work, so the hub looks once more instead of sleeping).
int hub_poll(void *state, int sleeping) {
    auto *h = static_cast<Hub *>(state);
    if (!sleeping && !h->spinning) {
        h->spinning = true;
        for (Conn *c : h->conns) c->seg.to_hub.consumer_cancel_sleep();
    }
    if (sleeping) h->spinning = false;
    int handled = 0;
    // drain() may free the connection it drains (a corrupt ring), nothing
    // else: so step past it before draining.
    for (auto it = h->conns.begin(); it != h->conns.end();) {
        Conn *c = *it++;
        if (c->want_space && check_space(c)) ++handled;
        if (!c->receiving) continue; // resuming rings the doorbell
        if (!c->seg.to_hub.empty()) {
            bool more = false;
            if (!drain(c, kDrainPerWakeup, &more)) continue;
            ++handled;
            if (more || !sleeping) continue;
        }
        if (sleeping && !c->seg.to_hub.consumer_prepare_sleep()) ++handled; // written meanwhile
    }
    return handled;
}

void hub_set_receiving(void *, void *conn, int enabled) {
    auto *c = static_cast<Conn *>(conn);
    if (c->receiving == (enabled != 0)) return;
    c->receiving = enabled != 0;
    if (c->receiving) ring_doorbell(c->doorbell); // drain what piled up, on the loop, not from inside this call
}

// Tell a live client the connection is over: it reads what is left in its
// ring, then gets -EPIPE. The memory goes when its mapping goes.
void close_for_client(Conn *c) {
    shm::SegmentHeader *sh = c->seg.header;
    sh->hub_closed.store(1);
    sem_post(&sh->to_client.items);
    sem_post(&sh->to_hub.spaces);
}

void hub_close(void *, void *conn) {
    auto *c = static_cast<Conn *>(conn);
    close_for_client(c);
    free_conn(c);
}

void hub_cleanup(void *state) {
    auto *h = static_cast<Hub *>(state);
    hub_stop(h);
    while (!h->conns.empty()) {
        Conn *c = *h->conns.begin();
        close_for_client(c);
        free_conn(c);
    }
    // Segments were unlinked when created; a hub killed in that instant is
    // what sweep is for.
    delete h;
}

int sweep(const ipchub_hub_params *params, char *err, size_t err_len) {
    shm::sweep_segments(params->instance);
    std::string path = shm::registration_path(params->runtime_dir);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return format_error(err, err_len, -errno, "cannot remove %s: %s", path.c_str(), std::strerror(errno));
    return 0;
}

// ---------------------------------------------------------------- client half

struct Client {
    int sock = -1;
    int doorbell = -1;
    uint32_t spin_us = 0;          // the hub's setting: poll this long after traffic before sleeping
    // When bytes last moved either way (CLOCK_MONOTONIC). Atomic: one sender
    // and one receiver thread may use a connection at the same time.
    std::atomic<long long> last_traffic_us{0};
    shm::Segment seg;
};

long long monotonic_us() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// How long a client call may spin: what is left of spin_us since the last
// traffic (an idle client that calls receive in a loop must not spin on
// every call), and never past the caller's own deadline (`left_ms` < 0: none).
uint32_t spin_budget(const Client *c, long long left_ms) {
    if (c->spin_us == 0) return 0;
    long long budget = c->spin_us - (monotonic_us() - c->last_traffic_us.load(std::memory_order_relaxed));
    if (left_ms >= 0 && left_ms * 1000 < budget) budget = left_ms * 1000;
    return budget > 0 ? uint32_t(budget) : 0;
}

// Is the hub still there? Reads only memory when it closed us in order; asks
// the registration socket (EOF = the hub exited or was killed) otherwise.
bool hub_alive(Client *c, bool ask_socket) {
    if (c->seg.header->hub_closed.load()) return false;
    if (!ask_socket) return true;
    char byte;
    ssize_t n = ::recv(c->sock, &byte, 1, MSG_DONTWAIT | MSG_PEEK);
    if (n == 0) return false;
    return n > 0 || errno == EAGAIN || errno == EINTR;
}

int client_connect(const ipchub_client_params *params, void **conn, char *err, size_t err_len) {
    std::string path = shm::registration_path(params->runtime_dir);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        return format_error(err, err_len, -ENAMETOOLONG, "socket path %s is too long", path.c_str());
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int timeout = params->connect_timeout_ms < 0 ? 5000 : params->connect_timeout_ms;
    auto *c = new (std::nothrow) Client;
    if (!c) return format_error(err, err_len, -ENOMEM, "out of memory");
    auto fail = [&](int code, const std::string &why) {
        if (c->sock >= 0) ::close(c->sock);
        if (c->doorbell >= 0) ::close(c->doorbell);
        c->seg.unmap();
        delete c;
        return format_error(err, err_len, code, "%s", why.c_str());
    };
    c->sock = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (c->sock < 0) return fail(-errno, std::string("socket: ") + std::strerror(errno));
    if (::connect(c->sock, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        int e = errno;
        if (e == ENOENT || e == ECONNREFUSED)
            return fail(-e, "no hub is running for instance '" + std::string(params->instance) + "' (" + path +
                                (e == ENOENT ? " does not exist)" : " refuses connections)"));
        return fail(-e, "cannot connect to " + path + ": " + std::strerror(e));
    }
    shm::ClientHello hello{shm::kHelloMagic, shm::kLayoutVersion, uint32_t(::getpid()), 0};
    int rc = shm::send_with_fds(c->sock, &hello, sizeof hello, nullptr, 0);
    if (rc < 0) return fail(rc, std::string("cannot register with the hub: ") + std::strerror(-rc));
    rc = ipchub::plugin::wait_fd(c->sock, POLLIN, timeout);
    if (rc <= 0)
        return fail(rc < 0 ? rc : -ETIMEDOUT, "the hub did not answer the shm registration within " +
                                                  std::to_string(timeout) + " ms");
    shm::HubReply reply{};
    int fds[2] = {-1, -1};
    int nfds = 0;
    ssize_t n = shm::recv_with_fds(c->sock, &reply, sizeof reply, fds, 2, &nfds, 0);
    auto close_fds = [&] {
        for (int i = 0; i < nfds; ++i) ::close(fds[i]);
    };
    if (n <= 0) {
        close_fds();
        return fail(n == 0 ? -ECONNREFUSED : int(n), "the hub closed the shm registration without an answer");
    }
    if (size_t(n) < offsetof(shm::HubReply, text) || reply.magic != shm::kHelloMagic) {
        close_fds();
        return fail(-EPROTO, "the hub's shm registration answer is not understood (incompatible ipchub builds?)");
    }
    if (reply.status != 0) {
        close_fds();
        reply.text[sizeof reply.text - 1] = '\0';
        return fail(reply.status < 0 ? reply.status : -EPROTO, std::string("the hub refused: ") + reply.text);
    }
    if (nfds != 2) {
        close_fds();
        return fail(-EPROTO, "the hub's shm registration answer lacks its descriptors");
    }
    std::string why;
    rc = shm::map_segment(fds[0], c->seg, why);
    ::close(fds[0]);
    c->doorbell = fds[1];
    if (rc < 0) return fail(rc, why);
    c->spin_us = reply.spin_us;
    ::fcntl(c->sock, F_SETFL, ::fcntl(c->sock, F_GETFL) | O_NONBLOCK);
    *conn = c;
    return 0;
}

int64_t client_send(void *conn, const struct iovec *iov, size_t iovcnt, int timeout_ms) {
    auto *c = static_cast<Client *>(conn);
    shm::Ring &ring = c->seg.to_hub;
    size_t total = 0;
    for (size_t i = 0; i < iovcnt; ++i) total += iov[i].iov_len;
    long long deadline = timeout_ms < 0 ? -1 : monotonic_ms() + timeout_ms;
    bool ask_socket = false;
    bool spun = false; // spin once per call, and only within spin_us of the last traffic
    for (;;) {
        if (!hub_alive(c, ask_socket)) return -EPIPE;
        int64_t w = write_available(ring, iov, iovcnt, total, 0, [c] { ring_doorbell(c->doorbell); });
        if (w < 0) return -EPROTO;
        if (w > 0 && c->spin_us) c->last_traffic_us.store(monotonic_us(), std::memory_order_relaxed);
        if (w > 0 || total == 0) return w;
        long long left = deadline < 0 ? kWaitSliceMs : deadline - monotonic_ms();
        if (left <= 0) return hub_alive(c, true) ? 0 : -EPIPE;
        auto room_or_closed = [&] {
            int64_t room = ring.free_space();
            return room < 0 || room > int64_t(shm::kRecordHeader) || c->seg.header->hub_closed.load();
        };
        if (!spun) {
            spun = true;
            if (spin_until(spin_budget(c, deadline < 0 ? -1 : left), room_or_closed)) continue;
        }
        if (ring.producer_prepare_sleep(shm::kRecordHeader + 1)) {
            int rc = shm::sem_wait_ms(&ring.header()->spaces, int(left < kWaitSliceMs ? left : kWaitSliceMs));
            ring.producer_cancel_sleep();
            if (rc < 0) return rc;
            ask_socket = rc == 0; // a whole slice without news: is the hub still there?
        }
    }
}

int64_t client_recv(void *conn, void *buf, size_t cap, int timeout_ms) {
    auto *c = static_cast<Client *>(conn);
    shm::Ring &ring = c->seg.to_client;
    long long deadline = timeout_ms < 0 ? -1 : monotonic_ms() + timeout_ms;
    bool spun = false; // spin once per call, and only within spin_us of the last traffic
    for (;;) {
        int64_t n = ring.read_stream(buf, cap);
        if (n < 0) return -EPROTO;
        if (n > 0) {
            if (ring.producer_needs_wake()) ring_doorbell(c->doorbell);
            if (c->spin_us) c->last_traffic_us.store(monotonic_us(), std::memory_order_relaxed);
            return n;
        }
        long long left = deadline < 0 ? kWaitSliceMs : deadline - monotonic_ms();
        if (left <= 0) return hub_alive(c, true) ? 0 : -EPIPE;
        if (!hub_alive(c, false)) return -EPIPE;
        if (!spun) {
            spun = true;
            auto data_or_closed = [&] { return !ring.empty() || c->seg.header->hub_closed.load(); };
            if (spin_until(spin_budget(c, deadline < 0 ? -1 : left), data_or_closed)) continue;
        }
        if (ring.consumer_prepare_sleep()) {
            int rc = shm::sem_wait_ms(&ring.header()->items, int(left < kWaitSliceMs ? left : kWaitSliceMs));
            ring.consumer_cancel_sleep();
            if (rc < 0) return rc;
            if (rc == 0 && ring.empty() && !hub_alive(c, true)) return -EPIPE;
        }
    }
}

void client_close(void *conn) {
    auto *c = static_cast<Client *>(conn);
    c->seg.header->client_closed.store(1);
    ::close(c->sock); // the hub sees EOF at once
    ::close(c->doorbell);
    c->seg.unmap();
    delete c;
}

const ipchub_plugin kPlugin = [] {
    ipchub_plugin p{};
    p.abi_version = IPCHUB_ABI_VERSION;
    p.struct_size = sizeof(ipchub_plugin);
    p.name = "shm";
    p.version = "1.0";
    p.description = "shared memory rings (one pair per client), semaphores and an eventfd doorbell";
    p.capabilities = 0; // a byte stream: frames of any size pass in pieces
    p.max_frame_size = 0;
    p.hub_init = hub_init;
    p.hub_start = hub_start;
    p.hub_stop = hub_stop;
    p.hub_send = hub_send;
    p.hub_set_receiving = hub_set_receiving;
    p.hub_close = hub_close;
    p.hub_cleanup = hub_cleanup;
    p.sweep = sweep;
    p.client_connect = client_connect;
    p.client_send = client_send;
    p.client_recv = client_recv;
    p.client_close = client_close;
    p.hub_poll = hub_poll;
    return p;
}();

} // namespace

extern "C" IPCHUB_PLUGIN_EXPORT const ipchub_plugin *ipchub_plugin_entry(uint32_t host_abi_version) {
    return IPCHUB_ABI_MAJOR(host_abi_version) == IPCHUB_ABI_VERSION_MAJOR ? &kPlugin : nullptr;
}
