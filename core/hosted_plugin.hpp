// One transport plugin as the hub runs it: the loaded shared object, the
// Transport the broker drives, the host table the plugin calls back
// through, and how far it got in the lifecycle (so stop and cleanup undo
// exactly what was done).
#pragma once

#include "broker_port.hpp"
#include "host_bridge.hpp"
#include "plugin_registry.hpp"
#include "transport.hpp"

#include <memory>

namespace ipchub::core {

struct HostedPlugin {
    HostedPlugin(std::unique_ptr<LoadedPlugin> loaded, LoopServices loop, Broker &broker)
        : plugin(std::move(loaded)), transport(plugin->api(), plugin->name()), port(broker, transport),
          bridge(std::move(loop), port) {}

    // Declared first so it is destroyed last: dlclose only after everything
    // that points into the shared object is gone.
    std::unique_ptr<LoadedPlugin> plugin;
    Transport transport;
    BrokerPort port;
    HostBridge bridge;
    bool initialised = false; // hub_init succeeded: hub_cleanup is owed
    bool started = false;     // hub_start succeeded: hub_stop is owed
    bool poll_failed = false; // hub_poll returned an error once: not called again

    const ipchub_plugin &api() const { return transport.api(); }
    const std::string &name() const { return transport.name(); }
    void *state() const { return transport.state; }
    // The plugin's hub_poll (ABI 1.1), or null when it has none.
    auto poller() const { return IPCHUB_HAS_MEMBER(&api(), ipchub_plugin, hub_poll) ? api().hub_poll : nullptr; }
};

} // namespace ipchub::core
