#include "client.hpp"

#include "doorbell.hpp"
#include "registration.hpp"
#include "segment.hpp"
#include "stream_write.hpp"

#include "clock.hpp"
#include "errors.hpp"
#include "hub_identity.hpp"
#include "spin.hpp"
#include "stream_io.hpp"
#include "unix_socket.hpp"
#include "wait_fd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <new>
#include <string>

namespace ipchub::shm {

namespace {

using plugin::Deadline;
using plugin::format_error;
using plugin::monotonic_us;
using plugin::spin_until;

constexpr int kWaitSliceMs = 200; // a sleeping client checks the hub's liveness this often

struct Client {
    int sock = -1;
    int doorbell = -1;
    uint32_t spin_us = 0;          // the hub's setting: poll this long after traffic before sleeping
    // When bytes last moved either way (CLOCK_MONOTONIC). Atomic: one sender
    // and one receiver thread may use a connection at the same time.
    std::atomic<long long> last_traffic_us{0};
    Segment seg;
};

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

} // namespace

int client_connect(const ipchub_client_params *params, void **conn, char *err, size_t err_len) {
    int timeout = params->connect_timeout_ms < 0 ? 5000 : params->connect_timeout_ms;
    int sock = plugin::connect_unix(registration_path(params->runtime_dir), SOCK_SEQPACKET, params->instance, err,
                                    err_len);
    if (sock < 0) return sock;
    // Before the first byte: is the listener the hub of our own user?
    if (int rc = plugin::check_hub_peer(sock, params->instance, err, err_len); rc < 0) {
        ::close(sock);
        return rc;
    }
    auto *c = new (std::nothrow) Client;
    if (!c) {
        ::close(sock);
        return format_error(err, err_len, -ENOMEM, "out of memory");
    }
    c->sock = sock;
    auto fail = [&](int code, const std::string &why) {
        if (c->sock >= 0) ::close(c->sock);
        if (c->doorbell >= 0) ::close(c->doorbell);
        c->seg.unmap();
        delete c;
        return format_error(err, err_len, code, "%s", why.c_str());
    };
    ClientHello hello{kHelloMagic, kLayoutVersion, uint32_t(::getpid()), 0};
    int rc = send_with_fds(c->sock, &hello, sizeof hello, nullptr, 0);
    if (rc < 0) return fail(rc, std::string("cannot register with the hub: ") + std::strerror(-rc));
    rc = plugin::wait_fd(c->sock, POLLIN, timeout);
    if (rc <= 0)
        return fail(rc < 0 ? rc : -ETIMEDOUT, "the hub did not answer the shm registration within " +
                                                  std::to_string(timeout) + " ms");
    HubReply reply{};
    int fds[2] = {-1, -1};
    int nfds = 0;
    ssize_t n = recv_with_fds(c->sock, &reply, sizeof reply, fds, 2, &nfds, 0);
    auto close_fds = [&] {
        for (int i = 0; i < nfds; ++i) ::close(fds[i]);
    };
    if (n <= 0) {
        close_fds();
        return fail(n == 0 ? -ECONNREFUSED : int(n), "the hub closed the shm registration without an answer");
    }
    if (size_t(n) < offsetof(HubReply, text) || reply.magic != kHelloMagic) {
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
    rc = map_segment(fds[0], c->seg, why);
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
    Ring &ring = c->seg.to_hub;
    size_t total = plugin::iov_bytes(iov, iovcnt);
    const Deadline deadline = Deadline::after_ms(timeout_ms);
    bool ask_socket = false;
    bool spun = false; // spin once per call, and only within spin_us of the last traffic
    for (;;) {
        if (!hub_alive(c, ask_socket)) return -EPIPE;
        int64_t w = write_available(ring, iov, iovcnt, total, 0, [c] { ring_doorbell(c->doorbell); });
        if (w < 0) return -EPROTO;
        if (w > 0 && c->spin_us) c->last_traffic_us.store(monotonic_us(), std::memory_order_relaxed);
        if (w > 0 || total == 0) return w;
        long long left = deadline.is_never() ? kWaitSliceMs : deadline.left_ms();
        if (left <= 0) return hub_alive(c, true) ? 0 : -EPIPE;
        auto room_or_closed = [&] {
            int64_t room = ring.free_space();
            return room < 0 || room > int64_t(kRecordHeader) || c->seg.header->hub_closed.load();
        };
        if (!spun) {
            spun = true;
            if (spin_until(spin_budget(c, deadline.is_never() ? -1 : left), room_or_closed)) continue;
        }
        if (ring.producer_prepare_sleep(kRecordHeader + 1)) {
            int rc = sem_wait_ms(&ring.header()->spaces, int(left < kWaitSliceMs ? left : kWaitSliceMs));
            ring.producer_cancel_sleep();
            if (rc < 0) return rc;
            ask_socket = rc == 0; // a whole slice without news: is the hub still there?
        }
    }
}

int64_t client_recv(void *conn, void *buf, size_t cap, int timeout_ms) {
    auto *c = static_cast<Client *>(conn);
    Ring &ring = c->seg.to_client;
    const Deadline deadline = Deadline::after_ms(timeout_ms);
    bool spun = false; // spin once per call, and only within spin_us of the last traffic
    for (;;) {
        int64_t n = ring.read_stream(buf, cap);
        if (n < 0) return -EPROTO;
        if (n > 0) {
            if (ring.producer_needs_wake()) ring_doorbell(c->doorbell);
            if (c->spin_us) c->last_traffic_us.store(monotonic_us(), std::memory_order_relaxed);
            return n;
        }
        long long left = deadline.is_never() ? kWaitSliceMs : deadline.left_ms();
        if (left <= 0) return hub_alive(c, true) ? 0 : -EPIPE;
        if (!hub_alive(c, false)) return -EPIPE;
        if (!spun) {
            spun = true;
            auto data_or_closed = [&] { return !ring.empty() || c->seg.header->hub_closed.load(); };
            if (spin_until(spin_budget(c, deadline.is_never() ? -1 : left), data_or_closed)) continue;
        }
        if (ring.consumer_prepare_sleep()) {
            int rc = sem_wait_ms(&ring.header()->items, int(left < kWaitSliceMs ? left : kWaitSliceMs));
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
} // namespace ipchub::shm
