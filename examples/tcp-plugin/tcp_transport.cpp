// TCP transport for ipchub, built out of tree against the installed SDK and
// its plugin kit (ipchub::plugin_kit: the code the stock transports share).
//
// Hub half: one listening TCP socket on the configured address and port
// (127.0.0.1:7878 by default), non-blocking accept and I/O on the hub's event
// loop. Client half: a blocking-with-timeout connection to the same address.
// Like the UNIX socket transport it is a byte stream: frames may be cut
// anywhere and the hub reassembles them; limits are the hub's (max frame size).
//
// Security: TCP has no file permissions. Anyone who can reach the port can
// publish and subscribe: on loopback that is every local user, beyond it the
// network. So a non-loopback address is refused unless the config says
// "allow_non_loopback": true, and then the hub log says plainly that the
// traffic is unauthenticated and unencrypted.
//
// The port names the hub: give each instance that enables tcp its own port
// (two hubs on one port: the second one's tcp transport fails to start).
#include <ipchub/plugin_kit/plugin_support.hpp>

#include "tcp_config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <string>

namespace {

using ipchub::plugin::Deadline;
using ipchub::plugin::format_error;
using ipchub::plugin::StreamKind;


void set_nodelay(int fd) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// A numeric IPv4 or IPv6 address and port, as a sockaddr.
struct Address {
    sockaddr_storage storage{};
    socklen_t len = 0;
    bool loopback = false;
    std::string text; // "127.0.0.1:7878" or "[::1]:7878"
};

std::string resolve(const tcp_plugin::Config &cfg, Address &out) {
    auto *v4 = reinterpret_cast<sockaddr_in *>(&out.storage);
    auto *v6 = reinterpret_cast<sockaddr_in6 *>(&out.storage);
    if (::inet_pton(AF_INET, cfg.address.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(uint16_t(cfg.port));
        out.len = sizeof *v4;
        out.loopback = (ntohl(v4->sin_addr.s_addr) >> 24) == 127;
        out.text = cfg.address + ":" + std::to_string(cfg.port);
    } else if (::inet_pton(AF_INET6, cfg.address.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(uint16_t(cfg.port));
        out.len = sizeof *v6;
        const in6_addr &a = v6->sin6_addr;
        out.loopback = IN6_IS_ADDR_LOOPBACK(&a) || (IN6_IS_ADDR_V4MAPPED(&a) && a.s6_addr[12] == 127);
        out.text = "[" + cfg.address + "]:" + std::to_string(cfg.port);
    } else {
        return "config.address: \"" + cfg.address + "\" is not a numeric IPv4 or IPv6 address";
    }
    return "";
}

// Parses and checks the plugin config: the same rules for hub and client.
int load_config(const char *json, Address &addr, bool &allow_non_loopback, char *err, size_t err_len) {
    tcp_plugin::Config cfg;
    std::string why = tcp_plugin::parse_config(json, cfg);
    if (why.empty()) why = resolve(cfg, addr);
    if (!why.empty()) return format_error(err, err_len, -EINVAL, "%s", why.c_str());
    allow_non_loopback = cfg.allow_non_loopback;
    if (!addr.loopback && !allow_non_loopback)
        return format_error(err, err_len, -EACCES,
                    "refusing non-loopback address %s: the tcp transport has no authentication or encryption; "
                    "set \"allow_non_loopback\": true in its config to accept that",
                    addr.text.c_str());
    return 0;
}

// ---- hub half ----

struct Hub {
    const ipchub_host *host = nullptr;
    Address addr;
    bool allow_non_loopback = false;
    ipchub::plugin::Listener listener;  // accept loop; refuses clients instead of spinning when out of descriptors
    ipchub::plugin::StreamHub clients; // the kit's hub half of a stream transport: read, send, pause, teardown
};

void log(Hub *h, int level, const std::string &text) { h->host->log(h->host, level, text.c_str()); }

std::string peer_name(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (::getpeername(fd, reinterpret_cast<sockaddr *>(&ss), &len) == 0) {
        if (ss.ss_family == AF_INET) {
            auto *a = reinterpret_cast<const sockaddr_in *>(&ss);
            ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
            port = ntohs(a->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            auto *a = reinterpret_cast<const sockaddr_in6 *>(&ss);
            ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
            port = ntohs(a->sin6_port);
        }
    }
    return std::string("tcp ") + host + ":" + std::to_string(port);
}

void on_accepted(void *user, int fd) {
    set_nodelay(fd);
    static_cast<Hub *>(user)->clients.open(fd, peer_name(fd)); // false: the hub refused it (shutting down)
}

int hub_init(const ipchub_host *host, const ipchub_hub_params *params, void **state, char *err, size_t err_len) {
    auto *h = new (std::nothrow) Hub;
    if (!h) return format_error(err, err_len, -ENOMEM, "out of memory");
    h->host = host;
    h->clients.set_host(host);
    int rc = load_config(params->config_json, h->addr, h->allow_non_loopback, err, err_len);
    if (rc < 0) {
        delete h;
        return rc;
    }
    *state = h;
    return 0;
}

int hub_start(void *state, char *err, size_t err_len) {
    auto *h = static_cast<Hub *>(state);
    int fd = ::socket(h->addr.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return format_error(err, err_len, -errno, "socket: %s", std::strerror(errno));
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); // restart while old connections linger
    if (::bind(fd, reinterpret_cast<sockaddr *>(&h->addr.storage), h->addr.len) != 0 || ::listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        ::close(fd);
        return format_error(err, err_len, -e, "cannot listen on %s: %s%s", h->addr.text.c_str(), std::strerror(e),
                            e == EADDRINUSE ? " (another hub or program uses that port; give each instance its own \"port\")"
                                            : "");
    }
    if (int rc = h->listener.adopt(h->host, fd, on_accepted, h, err, err_len); rc < 0) return rc;
    if (!h->addr.loopback)
        log(h, IPCHUB_LOG_WARN,
            "listening on non-loopback address " + h->addr.text +
                ": traffic is UNAUTHENTICATED and UNENCRYPTED; anyone who can reach this port can publish and subscribe");
    else
        log(h, IPCHUB_LOG_INFO, "listening on " + h->addr.text + " (loopback: any local user can connect)");
    return 0;
}

void hub_stop(void *state) { static_cast<Hub *>(state)->listener.stop(); }

int64_t hub_send(void *state, void *conn, const struct iovec *iov, size_t iovcnt) {
    return static_cast<Hub *>(state)->clients.send(conn, iov, iovcnt);
}

void hub_set_receiving(void *state, void *conn, int enabled) {
    static_cast<Hub *>(state)->clients.set_receiving(conn, enabled != 0);
}

void hub_close(void *state, void *conn) { static_cast<Hub *>(state)->clients.close(conn); }

void hub_cleanup(void *state) {
    auto *h = static_cast<Hub *>(state);
    hub_stop(h);
    h->clients.close_all();
    delete h; // TCP leaves no named object behind: nothing to unlink
}

// ---- client half ----

struct Client {
    int fd;
};

int client_connect(const ipchub_client_params *params, void **conn, char *err, size_t err_len) {
    Address addr;
    bool allow = false;
    int rc = load_config(params->config_json, addr, allow, err, err_len);
    if (rc < 0) return rc;
    int fd = ::socket(addr.storage.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return format_error(err, err_len, -errno, "socket: %s", std::strerror(errno));
    int e = 0;
    if (::connect(fd, reinterpret_cast<sockaddr *>(&addr.storage), addr.len) != 0) {
        e = errno;
        if (e == EINPROGRESS) {
            int timeout = params->connect_timeout_ms < 0 ? 5000 : params->connect_timeout_ms;
            int w = ipchub::plugin::wait_fd(fd, POLLOUT, timeout);
            socklen_t len = sizeof e;
            if (w == 0) e = ETIMEDOUT;
            else if (w < 0) e = -w;
            else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0) e = errno;
        }
    }
    if (e != 0) {
        ::close(fd);
        if (e == ECONNREFUSED)
            return format_error(err, err_len, -ECONNREFUSED,
                                "no hub is running for instance '%s' (nothing listens on tcp %s)", params->instance,
                                addr.text.c_str());
        return format_error(err, err_len, -e, "cannot connect to tcp %s: %s", addr.text.c_str(), std::strerror(e));
    }
    set_nodelay(fd);
    auto *c = new (std::nothrow) Client{fd};
    if (!c) {
        ::close(fd);
        return format_error(err, err_len, -ENOMEM, "out of memory");
    }
    *conn = c;
    return 0;
}

int64_t client_send(void *conn, const struct iovec *iov, size_t iovcnt, int timeout_ms) {
    return ipchub::plugin::stream_send_wait(static_cast<Client *>(conn)->fd, StreamKind::socket, iov, iovcnt,
                                            Deadline::after_ms(timeout_ms));
}

int64_t client_recv(void *conn, void *buf, size_t cap, int timeout_ms) {
    return ipchub::plugin::stream_recv_wait(static_cast<Client *>(conn)->fd, buf, cap, Deadline::after_ms(timeout_ms));
}

void client_close(void *conn) {
    auto *c = static_cast<Client *>(conn);
    ::close(c->fd);
    delete c;
}

IPCHUB_PLUGIN_TABLE(kPlugin,
    .name = "tcp",
    .version = "1.0",
    .description = "TCP stream (loopback by default; unauthenticated, unencrypted)",
    .capabilities = IPCHUB_CAP_NETWORK,
    .max_frame_size = 0, // a stream: the hub's limit applies
    IPCHUB_HUB_HALF_MEMBERS,
    .sweep = nullptr, // nothing named to sweep: the kernel frees a dead hub's port
    IPCHUB_CLIENT_HALF_MEMBERS)

} // namespace

IPCHUB_PLUGIN_ENTRY(kPlugin)
