#include "backends.hpp"

#include "config.hpp"
#include "frame.hpp"
#include "paths.hpp"
#include "plugin_registry.hpp"

#include <ipchub/protocol.h>

#include <algorithm>
#include <stdexcept>

namespace bench {

const Backend *Installation::find(const std::string &name) const {
    for (auto &b : backends)
        if (b.name == name) return &b;
    return nullptr;
}

uint64_t Installation::max_payload(const std::vector<const Backend *> &used) const {
    uint64_t limit = hub_max_message;
    for (const Backend *b : used) limit = std::min<uint64_t>(limit, ipchub::message_limit(hub_max_message, b->max_frame_size));
    return limit;
}

Installation discover(const std::string &config_path, const std::string &plugin_dir) {
    Installation inst;
    inst.config_path = config_path.empty() ? ipchub::find_default_config() : config_path;
    if (inst.config_path.empty()) throw std::runtime_error("no plugins.json found (set IPCHUB_CONFIG or pass --config)");
    ipchub::HubConfig config;
    try {
        config = ipchub::load_config_file(inst.config_path);
    } catch (const ipchub::ConfigError &e) {
        throw std::runtime_error(e.what());
    }
    inst.plugin_dir = ipchub::plugin_search_path(config, plugin_dir);
    inst.hub_max_message = config.hub.max_message_size;
    for (auto &spec : config.plugins) {
        if (!spec.enabled) continue;
        Backend b;
        b.name = spec.name;
        ipchub::PluginLoad load = ipchub::load_plugin(spec, inst.plugin_dir);
        if (load.plugin) {
            const ipchub_plugin &api = load.plugin->api();
            b.available = true;
            b.description = api.description ? api.description : "";
            b.capabilities = api.capabilities;
            b.max_frame_size = api.max_frame_size;
        } else {
            b.why_not = load.error;
        }
        inst.backends.push_back(std::move(b));
    }
    return inst;
}

} // namespace bench
