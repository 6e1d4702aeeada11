#include "bootstrap.hpp"

#include "hub_conn.hpp"
#include "peer.hpp"
#include "registration.hpp"
#include "segment.hpp"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <string>

namespace ipchub::shm {

namespace {

HubReply reply_with(int status) {
    HubReply reply{};
    reply.magic = kHelloMagic;
    reply.layout_version = kLayoutVersion;
    reply.status = status;
    return reply;
}

// Tells the client why not, then forgets it.
void refuse(Conn *c, int status, const std::string &why) {
    HubReply reply = reply_with(status);
    std::snprintf(reply.text, sizeof reply.text, "%s", why.c_str());
    send_with_fds(c->sock, &reply, sizeof reply, nullptr, 0);
    log(c->hub, IPCHUB_LOG_WARN, "refused a client (" + c->peer + "): " + why);
    c->hub->conns.close(c);
}

// "" when `hello` (of `n` bytes) comes from a client of this layout, else why not.
std::string check_hello(const ClientHello &hello, ssize_t n) {
    if (size_t(n) != sizeof hello || hello.magic != kHelloMagic) return "not an ipchub shm client (bad hello)";
    if (hello.layout_version != kLayoutVersion)
        return "shm layout version " + std::to_string(hello.layout_version) + " of the client differs from the hub's " +
               std::to_string(kLayoutVersion) + ": use a client built from the same ipchub version as the hub";
    return "";
}

// The client's hello: check its layout, create its segment and doorbell,
// send both, then the host gets the connection. Every way out before that
// is conns.close(c), which releases whatever the client got so far.
void on_hello(void *user, int fd, uint32_t) {
    auto *c = static_cast<Conn *>(user);
    Hub *h = c->hub;
    ClientHello hello{};
    ssize_t n = ::recv(fd, &hello, sizeof hello, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) return h->conns.close(c); // went away before saying hello
    if (std::string why = check_hello(hello, n); !why.empty()) return refuse(c, -EPROTO, why);
    std::string err;
    int seg_fd = create_segment(segment_name(h->instance, ::getpid(), h->next_segment++), h->ring_bytes, h->file_mode,
                                c->seg, err);
    c->doorbell = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (seg_fd < 0 || c->doorbell < 0) {
        if (c->doorbell < 0) err = std::string("eventfd: ") + std::strerror(errno);
        if (seg_fd >= 0) ::close(seg_fd);
        return refuse(c, -ENOMEM, "the hub cannot create a shared segment: " + err);
    }
    c->seg.header->client_pid = hello.pid;
    HubReply reply = reply_with(0);
    reply.ring_bytes = h->ring_bytes;
    reply.spin_us = h->spin_us;
    int fds[2] = {seg_fd, c->doorbell};
    int rc = send_with_fds(fd, &reply, sizeof reply, fds, 2);
    ::close(seg_fd); // our mapping stays; the client has its own descriptor now
    if (rc < 0) return h->conns.close(c);
    end_handshake(c);
    h->host->unwatch_fd(h->host, fd); // open_conn watches it again, for liveness
    open_conn(c);
}

// A connection that has not said hello within handshake_timeout_ms: a
// client that never will must not hold a descriptor for ever.
void on_handshake_timeout(void *user) {
    auto *c = static_cast<Conn *>(user);
    c->handshake_timer = 0; // fired: nothing to cancel
    log(c->hub, IPCHUB_LOG_WARN,
        "closing a connection to shm.sock (" + c->peer + ") that sent no hello within " +
            std::to_string(c->hub->handshake_timeout_ms) + " ms (config handshake_timeout_ms)");
    c->hub->conns.close(c);
}

// Too many connections in their handshake: close this one at once. One log
// line when the limit is reached; the count of the burst when it is over.
void refuse_over_limit(Hub *h, int fd) {
    ::close(fd);
    if (h->refused_at_limit++ == 0)
        log(h, IPCHUB_LOG_WARN,
            "closing new connections to shm.sock: " + std::to_string(h->pending) +
                " are still in their handshake (config max_pending_handshakes)");
}

// An accepted connection: owned from now on, waiting for its hello within
// the handshake timeout, unless too many are waiting already.
void start_handshake(Hub *h, int fd, const plugin::PeerCredentials &peer) {
    if (h->pending >= h->max_pending_handshakes) return refuse_over_limit(h, fd);
    if (h->refused_at_limit > 0) {
        log(h, IPCHUB_LOG_WARN,
            "accepting connections to shm.sock again (" + std::to_string(h->refused_at_limit) +
                " closed at max_pending_handshakes)");
        h->refused_at_limit = 0;
    }
    auto *c = new (std::nothrow) Conn;
    if (!c) {
        ::close(fd);
        return;
    }
    c->hub = h;
    c->sock = fd;
    c->peer = peer.description();
    c->pending = true;
    ++h->pending;
    h->conns.add(c);
    int64_t timer = h->host->add_timer(h->host, h->handshake_timeout_ms, 0, on_handshake_timeout, c);
    if (timer < 0) {
        log(h, IPCHUB_LOG_WARN, "refused a client (" + c->peer + "): no timer for its handshake");
        return h->conns.close(c);
    }
    c->handshake_timer = timer;
    h->host->watch_fd(h->host, fd, IPCHUB_EV_READ, on_hello, c);
}

} // namespace

void on_accepted(void *user, int fd) {
    start_handshake(static_cast<Hub *>(user), fd, plugin::peer_credentials(fd));
}

void close_unopened(Hub *h) {
    for (Conn *c : h->conns.snapshot())
        if (!c->opened()) h->conns.close(c);
}

} // namespace ipchub::shm
