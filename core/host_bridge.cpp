#include "host_bridge.hpp"

#include <cerrno>

namespace ipchub::core {

// The C functions of the table. Each finds its bridge through host->ctx.
struct HostCalls {
    static HostBridge &bridge(const ipchub_host *host) { return *static_cast<HostBridge *>(host->ctx); }
    static EventLoop &loop(const ipchub_host *host) { return *bridge(host).loop_.loop; }
    static ConnectionServices &connections(const ipchub_host *host) { return *bridge(host).connections_; }

    // ---- loop services ----

    static void log(const ipchub_host *host, int level, const char *message) {
        auto &write = bridge(host).loop_.log;
        int clamped = level < 0 ? 0 : level > 3 ? 3 : level;
        if (write) write(Level(clamped), message ? message : "");
    }

    static int watch_fd(const ipchub_host *host, int fd, uint32_t events, ipchub_fd_callback cb, void *user) {
        if (fd < 0 || !cb) return -EINVAL;
        return loop(host).watch(fd, events, [cb, user, fd](uint32_t ev) { cb(user, fd, ev); });
    }

    static int unwatch_fd(const ipchub_host *host, int fd) { return loop(host).unwatch(fd); }

    static int64_t add_timer(const ipchub_host *host, uint32_t delay_ms, int repeat, ipchub_callback cb, void *user) {
        if (!cb) return -EINVAL;
        return loop(host).add_timer(delay_ms, repeat != 0, [cb, user] { cb(user); });
    }

    static void cancel_timer(const ipchub_host *host, int64_t id) { loop(host).cancel_timer(id); }

    // Any thread. Only the shared_ptr is copied here; `*live` is read when
    // the callback runs, on the loop thread, where retire() writes it.
    static int post(const ipchub_host *host, ipchub_callback cb, void *user) {
        if (!cb) return -EINVAL;
        HostBridge &b = bridge(host);
        return b.loop_.loop->post([cb, user, live = b.live_] {
            if (*live) cb(user);
        });
    }

    // ---- connection services ----

    static void *conn_opened(const ipchub_host *host, void *plugin_conn, const char *peer) {
        return connections(host).opened(plugin_conn, peer);
    }

    static void conn_received(const ipchub_host *host, void *host_conn, const void *data, size_t len) {
        connections(host).received(host_conn, data, len);
    }

    static void conn_writable(const ipchub_host *host, void *host_conn) { connections(host).writable(host_conn); }

    static void conn_closed(const ipchub_host *host, void *host_conn, int reason) {
        connections(host).closed(host_conn, reason);
    }
};

HostBridge::HostBridge(LoopServices loop, ConnectionServices &connections)
    : loop_(std::move(loop)), connections_(&connections) {
    ipchub_host &h = host_;
    h.abi_version = IPCHUB_ABI_VERSION;
    h.struct_size = sizeof(ipchub_host);
    h.ctx = this;
    h.log = HostCalls::log;
    h.watch_fd = HostCalls::watch_fd;
    h.unwatch_fd = HostCalls::unwatch_fd;
    h.add_timer = HostCalls::add_timer;
    h.cancel_timer = HostCalls::cancel_timer;
    h.post = HostCalls::post;
    h.conn_opened = HostCalls::conn_opened;
    h.conn_received = HostCalls::conn_received;
    h.conn_writable = HostCalls::conn_writable;
    h.conn_closed = HostCalls::conn_closed;
}

HostBridge::~HostBridge() { retire(); }

void HostBridge::retire() { *live_ = false; }

} // namespace ipchub::core
