// UNIX domain stream socket transport.
//
// Hub half: one listening socket, <runtime_dir>/hub.sock (mode from the hub's
// file_mode, directory 0700), non-blocking accept and I/O on the hub's event
// loop. Client half: a blocking-with-timeout connection to that socket.
// A byte stream: frames may be cut anywhere; the hub reassembles them.
#include <ipchub/plugin.h>

#include "plugin_support.hpp"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <string>
#include <unordered_set>

namespace {

using ipchub::plugin::format_error;

constexpr const char *kSocketName = "hub.sock";
constexpr size_t kReadBuffer = 256 * 1024;
constexpr int kReadsPerWakeup = 4; // then let other connections have a turn

struct Hub;

struct Conn {
    Hub *hub;
    int fd;
    void *host_conn = nullptr;
    bool receiving = true;
    bool want_write = false;
    bool hung_up = false; // peer gone while paused: unwatched until resumed
};

struct Hub {
    const ipchub_host *host = nullptr;
    std::string path;
    uint32_t file_mode = 0600;
    int listen_fd = -1;
    std::unordered_set<Conn *> conns;
    unsigned char buffer[kReadBuffer];
};

std::string socket_path(const char *runtime_dir) { return std::string(runtime_dir) + "/" + kSocketName; }

void log(Hub *h, int level, const std::string &text) { h->host->log(h->host, level, text.c_str()); }

void update_watch(Conn *c);

void drop(Conn *c, int reason) {
    Hub *h = c->hub;
    h->host->unwatch_fd(h->host, c->fd);
    ::close(c->fd);
    h->conns.erase(c);
    void *host_conn = c->host_conn;
    delete c;
    h->host->conn_closed(h->host, host_conn, reason);
}

void on_conn_event(void *user, int, uint32_t events) {
    auto *c = static_cast<Conn *>(user);
    Hub *h = c->hub;
    if (events & IPCHUB_EV_WRITE) {
        c->want_write = false;
        update_watch(c);
        h->host->conn_writable(h->host, c->host_conn);
    }
    if (!c->receiving) {
        if (events & IPCHUB_EV_HANGUP) { // would fire forever while paused
            c->hung_up = true;
            h->host->unwatch_fd(h->host, c->fd);
        }
        return;
    }
    if (!(events & (IPCHUB_EV_READ | IPCHUB_EV_HANGUP))) return;
    for (int i = 0; i < kReadsPerWakeup && c->receiving; ++i) {
        ssize_t n = ::recv(c->fd, h->buffer, sizeof h->buffer, MSG_DONTWAIT);
        if (n > 0) {
            h->host->conn_received(h->host, c->host_conn, h->buffer, size_t(n));
            if (size_t(n) < sizeof h->buffer) return;
            continue;
        }
        if (n == 0) return drop(c, 0);
        if (errno == EAGAIN || errno == EINTR) return;
        return drop(c, errno);
    }
}

void update_watch(Conn *c) {
    Hub *h = c->hub;
    if (c->hung_up && !c->receiving) return;
    uint32_t ev = (c->receiving ? IPCHUB_EV_READ : 0u) | (c->want_write ? IPCHUB_EV_WRITE : 0u);
    c->hung_up = false;
    h->host->watch_fd(h->host, c->fd, ev, on_conn_event, c);
}

void on_accept(void *user, int, uint32_t) {
    auto *h = static_cast<Hub *>(user);
    for (;;) {
        int fd = ::accept4(h->listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE) log(h, IPCHUB_LOG_WARN, "accept: out of file descriptors");
            return; // EAGAIN: all taken
        }
        ucred cred{};
        socklen_t len = sizeof cred;
        std::string peer;
        if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) peer = "pid " + std::to_string(cred.pid);
        auto *c = new (std::nothrow) Conn{h, fd};
        if (!c) {
            ::close(fd);
            continue;
        }
        c->host_conn = h->host->conn_opened(h->host, c, peer.c_str());
        if (!c->host_conn) { // the hub refuses (shutting down)
            ::close(fd);
            delete c;
            continue;
        }
        h->conns.insert(c);
        update_watch(c);
    }
}

int hub_init(const ipchub_host *host, const ipchub_hub_params *params, void **state, char *err, size_t err_len) {
    auto *h = new (std::nothrow) Hub;
    if (h) {
        h->host = host;
        h->path = socket_path(params->runtime_dir);
        h->file_mode = params->file_mode;
    }
    if (!h) return format_error(err, err_len, -ENOMEM, "out of memory");
    if (int rc = ipchub::plugin::check_socket_path(h->path, err, err_len); rc < 0) {
        delete h;
        return rc;
    }
    *state = h;
    return 0;
}

int hub_start(void *state, char *err, size_t err_len) {
    auto *h = static_cast<Hub *>(state);
    int fd = ipchub::plugin::listen_unix(h->path, SOCK_STREAM, h->file_mode, err, err_len);
    if (fd < 0) return fd;
    h->listen_fd = fd;
    int rc = h->host->watch_fd(h->host, fd, IPCHUB_EV_READ, on_accept, h);
    if (rc < 0) return format_error(err, err_len, rc, "cannot watch the listening socket: %s", std::strerror(-rc));
    log(h, IPCHUB_LOG_DEBUG, "listening on " + h->path);
    return 0;
}

void hub_stop(void *state) {
    auto *h = static_cast<Hub *>(state);
    if (h->listen_fd < 0) return;
    h->host->unwatch_fd(h->host, h->listen_fd);
    ::close(h->listen_fd);
    h->listen_fd = -1;
    ::unlink(h->path.c_str());
}

int64_t hub_send(void *, void *conn, const struct iovec *iov, size_t iovcnt) {
    auto *c = static_cast<Conn *>(conn);
    msghdr msg{};
    msg.msg_iov = const_cast<iovec *>(iov);
    msg.msg_iovlen = iovcnt > IOV_MAX ? IOV_MAX : iovcnt;
    ssize_t n = ::sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    size_t total = 0;
    for (size_t i = 0; i < iovcnt; ++i) total += iov[i].iov_len;
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) return -errno;
        n = 0;
    }
    if (size_t(n) < total && !c->want_write) {
        c->want_write = true;
        update_watch(c);
    }
    return n;
}

void hub_set_receiving(void *, void *conn, int enabled) {
    auto *c = static_cast<Conn *>(conn);
    if (c->receiving == (enabled != 0)) return;
    c->receiving = enabled != 0;
    update_watch(c);
}

void hub_close(void *state, void *conn) {
    auto *h = static_cast<Hub *>(state);
    auto *c = static_cast<Conn *>(conn);
    h->host->unwatch_fd(h->host, c->fd);
    ::close(c->fd);
    h->conns.erase(c);
    delete c;
}

void hub_cleanup(void *state) {
    auto *h = static_cast<Hub *>(state);
    hub_stop(h);
    for (Conn *c : h->conns) {
        h->host->unwatch_fd(h->host, c->fd);
        ::close(c->fd);
        delete c;
    }
    delete h;
}

int sweep(const ipchub_hub_params *params, char *err, size_t err_len) {
    std::string path = socket_path(params->runtime_dir);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return format_error(err, err_len, -errno, "cannot remove %s: %s", path.c_str(), std::strerror(errno));
    return 0;
}

// ---- client half ----

struct Client {
    int fd;
};

int client_connect(const ipchub_client_params *params, void **conn, char *err, size_t err_len) {
    std::string path = socket_path(params->runtime_dir);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path)
        return format_error(err, err_len, -ENAMETOOLONG, "socket path %s is too long", path.c_str());
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return format_error(err, err_len, -errno, "socket: %s", std::strerror(errno));
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0) {
        int e = errno;
        ::close(fd);
        if (e == ENOENT || e == ECONNREFUSED)
            return format_error(err, err_len, -e, "no hub is running for instance '%s' (%s %s)", params->instance,
                                path.c_str(), e == ENOENT ? "does not exist" : "refuses connections");
        return format_error(err, err_len, -e, "cannot connect to %s: %s", path.c_str(), std::strerror(e));
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    auto *c = new (std::nothrow) Client{fd};
    if (!c) {
        ::close(fd);
        return format_error(err, err_len, -ENOMEM, "out of memory");
    }
    *conn = c;
    return 0;
}

int64_t client_send(void *conn, const struct iovec *iov, size_t iovcnt, int timeout_ms) {
    auto *c = static_cast<Client *>(conn);
    msghdr msg{};
    msg.msg_iov = const_cast<iovec *>(iov);
    msg.msg_iovlen = iovcnt > IOV_MAX ? IOV_MAX : iovcnt;
    for (;;) {
        ssize_t n = ::sendmsg(c->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n >= 0) return n;
        if (errno == EPIPE || errno == ECONNRESET) return -EPIPE;
        if (errno != EAGAIN && errno != EINTR) return -errno;
        int rc = ipchub::plugin::wait_fd(c->fd, POLLOUT, timeout_ms);
        if (rc <= 0) return rc; // 0: timed out
    }
}

int64_t client_recv(void *conn, void *buf, size_t cap, int timeout_ms) {
    auto *c = static_cast<Client *>(conn);
    for (;;) {
        ssize_t n = ::recv(c->fd, buf, cap, MSG_DONTWAIT);
        if (n > 0) return n;
        if (n == 0 || errno == ECONNRESET) return -EPIPE;
        if (errno != EAGAIN && errno != EINTR) return -errno;
        int rc = ipchub::plugin::wait_fd(c->fd, POLLIN, timeout_ms);
        if (rc <= 0) return rc;
    }
}

void client_close(void *conn) {
    auto *c = static_cast<Client *>(conn);
    ::close(c->fd);
    delete c;
}

const ipchub_plugin kPlugin = [] {
    ipchub_plugin p{};
    p.abi_version = IPCHUB_ABI_VERSION;
    p.struct_size = sizeof(ipchub_plugin);
    p.name = "socket";
    p.version = "1.0";
    p.description = "UNIX domain stream socket in the instance's runtime directory";
    p.capabilities = 0;
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
    return p;
}();

} // namespace

extern "C" IPCHUB_PLUGIN_EXPORT const ipchub_plugin *ipchub_plugin_entry(uint32_t host_abi_version) {
    return IPCHUB_ABI_MAJOR(host_abi_version) == IPCHUB_ABI_VERSION_MAJOR ? &kPlugin : nullptr;
}
