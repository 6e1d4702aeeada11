#include "bootstrap.hpp"

#include "hub_conn.hpp"
#include "registration.hpp"
#include "segment.hpp"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <string>

namespace ipchub::shm {

// A client that connected to the registration socket and has not said hello yet.
struct Pending {
    Hub *hub;
    int fd;
    std::string peer;
};

namespace {

HubReply reply_with(int status) {
    HubReply reply{};
    reply.magic = kHelloMagic;
    reply.layout_version = kLayoutVersion;
    reply.status = status;
    return reply;
}

void refuse(Pending *p, int status, const std::string &why) {
    HubReply reply = reply_with(status);
    std::snprintf(reply.text, sizeof reply.text, "%s", why.c_str());
    send_with_fds(p->fd, &reply, sizeof reply, nullptr, 0);
    log(p->hub, IPCHUB_LOG_WARN, "refused a client (" + p->peer + "): " + why);
}

// Forgets a pending client and returns its socket, now the caller's.
int release_pending(Pending *p) {
    int fd = p->fd;
    p->hub->host->unwatch_fd(p->hub->host, fd);
    p->hub->pending.erase(p);
    delete p;
    return fd;
}

void drop_pending(Pending *p) { ::close(release_pending(p)); }

// "" when `hello` (of `n` bytes) comes from a client of this layout, else why not.
std::string check_hello(const ClientHello &hello, ssize_t n) {
    if (size_t(n) != sizeof hello || hello.magic != kHelloMagic) return "not an ipchub shm client (bad hello)";
    if (hello.layout_version != kLayoutVersion)
        return "shm layout version " + std::to_string(hello.layout_version) + " of the client differs from the hub's " +
               std::to_string(kLayoutVersion) + ": use a client built from the same ipchub version as the hub";
    return "";
}

// The client's hello: check its layout, create its segment and doorbell,
// send both, then the connection is the hub's. Whatever fails on the way,
// the Conn under construction releases what it holds (its destructor).
void on_hello(void *user, int fd, uint32_t) {
    auto *p = static_cast<Pending *>(user);
    Hub *h = p->hub;
    ClientHello hello{};
    ssize_t n = ::recv(fd, &hello, sizeof hello, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) return drop_pending(p); // went away before saying hello
    if (std::string why = check_hello(hello, n); !why.empty()) {
        refuse(p, -EPROTO, why);
        return drop_pending(p);
    }
    std::unique_ptr<Conn> c(new (std::nothrow) Conn(h));
    if (!c) return drop_pending(p);
    std::string err;
    int seg_fd = create_segment(segment_name(h->instance, ::getpid(), h->next_segment++), h->ring_bytes, h->file_mode,
                                c->seg, err);
    c->doorbell = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (seg_fd < 0 || c->doorbell < 0) {
        if (c->doorbell < 0) err = std::string("eventfd: ") + std::strerror(errno);
        if (seg_fd >= 0) ::close(seg_fd);
        refuse(p, -ENOMEM, "the hub cannot create a shared segment: " + err);
        return drop_pending(p);
    }
    c->seg.header->client_pid = hello.pid;
    HubReply reply = reply_with(0);
    reply.ring_bytes = h->ring_bytes;
    reply.spin_us = h->spin_us;
    int fds[2] = {seg_fd, c->doorbell};
    int rc = send_with_fds(fd, &reply, sizeof reply, fds, 2);
    ::close(seg_fd); // our mapping stays; the client has its own descriptor now
    std::string peer = p->peer;
    c->sock = release_pending(p); // the socket now belongs to the connection
    if (rc < 0) return;
    open_conn(c.release(), peer);
}

} // namespace

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

void drop_all_pending(Hub *h) {
    while (!h->pending.empty()) drop_pending(*h->pending.begin());
}

} // namespace ipchub::shm
