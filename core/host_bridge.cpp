#include "host_bridge.hpp"

#include "hub.hpp"
#include "transport.hpp"

#include <cerrno>

namespace ipchub::core {

namespace {

Transport &transport_of(const ipchub_host *host) { return *static_cast<Transport *>(host->ctx); }

void host_log(const ipchub_host *host, int level, const char *message) {
    Transport &t = transport_of(host);
    int clamped = level < 0 ? 0 : level > 3 ? 3 : level;
    t.hub->log().write(Level(clamped), t.name() + ": " + (message ? message : ""));
}

int host_watch_fd(const ipchub_host *host, int fd, uint32_t events, ipchub_fd_callback cb, void *user) {
    if (fd < 0 || !cb) return -EINVAL;
    return transport_of(host).hub->loop().watch(fd, events, [cb, user, fd](uint32_t ev) { cb(user, fd, ev); });
}

int host_unwatch_fd(const ipchub_host *host, int fd) { return transport_of(host).hub->loop().unwatch(fd); }

int64_t host_add_timer(const ipchub_host *host, uint32_t delay_ms, int repeat, ipchub_callback cb, void *user) {
    if (!cb) return -EINVAL;
    return transport_of(host).hub->loop().add_timer(delay_ms, repeat != 0, [cb, user] { cb(user); });
}

void host_cancel_timer(const ipchub_host *host, int64_t id) { transport_of(host).hub->loop().cancel_timer(id); }

int host_post(const ipchub_host *host, ipchub_callback cb, void *user) {
    if (!cb) return -EINVAL;
    return transport_of(host).hub->loop().post([cb, user] { cb(user); });
}

void *host_conn_opened(const ipchub_host *host, void *plugin_conn, const char *peer) {
    Transport &t = transport_of(host);
    return t.hub->broker().open(&t, plugin_conn, peer);
}

void host_conn_received(const ipchub_host *host, void *host_conn, const void *data, size_t len) {
    transport_of(host).hub->broker().received(static_cast<Connection *>(host_conn), data, len);
}

void host_conn_writable(const ipchub_host *host, void *host_conn) {
    transport_of(host).hub->broker().writable(static_cast<Connection *>(host_conn));
}

void host_conn_closed(const ipchub_host *host, void *host_conn, int reason) {
    transport_of(host).hub->broker().closed_by_peer(static_cast<Connection *>(host_conn), reason);
}

} // namespace

void bind_host(Transport &transport) {
    ipchub_host &h = transport.host;
    h = ipchub_host{};
    h.abi_version = IPCHUB_ABI_VERSION;
    h.struct_size = sizeof(ipchub_host);
    h.ctx = &transport;
    h.log = host_log;
    h.watch_fd = host_watch_fd;
    h.unwatch_fd = host_unwatch_fd;
    h.add_timer = host_add_timer;
    h.cancel_timer = host_cancel_timer;
    h.post = host_post;
    h.conn_opened = host_conn_opened;
    h.conn_received = host_conn_received;
    h.conn_writable = host_conn_writable;
    h.conn_closed = host_conn_closed;
}

} // namespace ipchub::core
