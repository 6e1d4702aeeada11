// A loaded and initialised transport plugin inside the hub: the plugin's
// table, its state, and the host table handed to it (whose ctx points back
// here, so every host call knows which plugin made it).
#pragma once

#include "plugin_registry.hpp"

#include <ipchub/plugin.h>

#include <memory>

namespace ipchub::core {

class Hub;

struct Transport {
    std::unique_ptr<LoadedPlugin> plugin; // null for in-process test transports
    const ipchub_plugin *table = nullptr; // plugin->api(), or a test's table
    std::string label;                    // the backend name, for logs
    ipchub_host host{};
    void *state = nullptr;
    Hub *hub = nullptr;
    bool started = false;
    bool poll_failed = false; // hub_poll returned an error once: not called again
    // The effective limits on this transport (frame_limit/message_limit of the
    // hub's max_message_size and the plugin's max_frame_size): the hub never
    // hands the plugin a larger frame, and announces max_message to its clients.
    uint32_t max_frame = UINT32_MAX;
    uint32_t max_message = UINT32_MAX;

    // The plugin's hub_poll (ABI 1.1), or null when it has none.
    auto poller() const { return IPCHUB_HAS_MEMBER(table, ipchub_plugin, hub_poll) ? table->hub_poll : nullptr; }

    const ipchub_plugin &api() const { return *table; }
    const std::string &name() const { return label; }
    bool keeps_boundaries() const { return api().capabilities & IPCHUB_CAP_MESSAGE_BOUNDARIES; }
};

} // namespace ipchub::core
