// Hub half of the socket transport (hub event-loop thread only; never blocks).
#include "hub.hpp"

#include "config.hpp"
#include "plugin_support.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <string>

namespace ipchub::socket {

using plugin::format_error;

namespace {

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

    void teardown(const ipchub_host *host) { plugin::close_watched(host, fd); }
};

struct Hub {
    const ipchub_host *host = nullptr;
    std::string path;
    uint32_t file_mode = 0600;
    plugin::Listener listener;
    plugin::ConnectionSet<Conn> conns;
    unsigned char buffer[kReadBuffer];
};

void update_watch(Conn *c);

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
    if (auto end = plugin::pump_stream(h->host, c->host_conn, c->fd, h->buffer, sizeof h->buffer, kReadsPerWakeup,
                                       &c->receiving))
        h->conns.lost(c, *end);
}

void update_watch(Conn *c) {
    Hub *h = c->hub;
    if (c->hung_up && !c->receiving) return;
    uint32_t ev = (c->receiving ? IPCHUB_EV_READ : 0u) | (c->want_write ? IPCHUB_EV_WRITE : 0u);
    c->hung_up = false;
    h->host->watch_fd(h->host, c->fd, ev, on_conn_event, c);
}

void on_accepted(void *user, int fd) {
    auto *h = static_cast<Hub *>(user);
    auto *c = new (std::nothrow) Conn{h, fd};
    if (!c) {
        ::close(fd);
        return;
    }
    if (h->conns.report_opened(c, plugin::peer_credentials(fd).description().c_str())) update_watch(c);
}

} // namespace

int hub_init(const ipchub_host *host, const ipchub_hub_params *params, void **state, char *err, size_t err_len) {
    SocketConfig config;
    std::string why;
    if (!parse_config(params->config_json, config, why)) return format_error(err, err_len, -EINVAL, "%s", why.c_str());
    std::string path = socket_path(params->runtime_dir);
    if (int rc = plugin::check_socket_path(path, err, err_len); rc < 0) return rc;
    auto *h = new (std::nothrow) Hub;
    if (!h) return format_error(err, err_len, -ENOMEM, "out of memory");
    h->host = host;
    h->path = std::move(path);
    h->file_mode = params->file_mode;
    h->conns.set_host(host);
    *state = h;
    return 0;
}

int hub_start(void *state, char *err, size_t err_len) {
    auto *h = static_cast<Hub *>(state);
    return h->listener.listen_unix(h->host, h->path, SOCK_STREAM, h->file_mode, on_accepted, h, "", err, err_len);
}

void hub_stop(void *state) { static_cast<Hub *>(state)->listener.stop(); }

int64_t hub_send(void *, void *conn, const struct iovec *iov, size_t iovcnt) {
    auto *c = static_cast<Conn *>(conn);
    int64_t n = plugin::stream_send(c->fd, plugin::StreamKind::socket, iov, iovcnt);
    if (n >= 0 && size_t(n) < plugin::iov_bytes(iov, iovcnt) && !c->want_write) {
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

void hub_close(void *state, void *conn) { static_cast<Hub *>(state)->conns.close(static_cast<Conn *>(conn)); }

void hub_cleanup(void *state) {
    auto *h = static_cast<Hub *>(state);
    hub_stop(h);
    h->conns.close_all();
    delete h;
}

int sweep(const ipchub_hub_params *params, char *err, size_t err_len) {
    std::string path = socket_path(params->runtime_dir);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return format_error(err, err_len, -errno, "cannot remove %s: %s", path.c_str(), std::strerror(errno));
    return 0;
}

} // namespace ipchub::socket
