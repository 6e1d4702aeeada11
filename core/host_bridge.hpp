// The ipchub_host table one plugin is given, in two halves that a caller can
// provide separately:
//  - loop services (log, watch_fd, unwatch_fd, add_timer, cancel_timer,
//    post): an event loop and a place for log lines. Every host has them;
//    the hub and myipcbench's raw server share this half.
//  - connection services (conn_opened, conn_received, conn_writable,
//    conn_closed): whoever owns the connections. The hub's broker, or the
//    raw server's one-client sink.
// The bridge knows neither the hub nor the broker: it only forwards.
#pragma once

#include "event_loop.hpp"
#include "log.hpp"

#include <ipchub/plugin.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace ipchub::core {

struct LoopServices {
    EventLoop *loop = nullptr;
    // One line the plugin logged; the writer adds whatever prefix it wants.
    std::function<void(Level level, const std::string &text)> log;
};

class ConnectionServices {
public:
    virtual ~ConnectionServices() = default;
    // Returns the host's handle for the connection, or null to refuse it.
    virtual void *opened(void *plugin_conn, const char *peer) = 0;
    virtual void received(void *host_conn, const void *data, size_t len) = 0;
    virtual void writable(void *host_conn) = 0;
    virtual void closed(void *host_conn, int reason) = 0;
};

class HostBridge {
public:
    HostBridge(LoopServices loop, ConnectionServices &connections);
    ~HostBridge();
    // host()->ctx points here.
    HostBridge(const HostBridge &) = delete;
    HostBridge &operator=(const HostBridge &) = delete;

    const ipchub_host *host() const { return &host_; }

    // Called once the plugin's hub_cleanup returned: callbacks it posted that
    // have not run yet never will (plugin.h: "either run before it or not at
    // all"), because what they point at is gone. The loop may keep running.
    void retire();

private:
    friend struct HostCalls;
    ipchub_host host_{};
    LoopServices loop_;
    ConnectionServices *connections_;
    // Shared with every callback still queued by post: false once retired.
    // Read and written on the loop thread only.
    std::shared_ptr<bool> live_ = std::make_shared<bool>(true);
};

} // namespace ipchub::core
