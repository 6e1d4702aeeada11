// Which transports this machine can benchmark: every enabled plugin of
// plugins.json whose shared object exists and loads (so a backend that is not
// built yet is reported as skipped, not as an error).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

struct Backend {
    std::string name;
    bool available = false;
    std::string why_not;          // one line when not available
    std::string description;
    uint32_t capabilities = 0;    // IPCHUB_CAP_*
    uint32_t max_frame_size = 0;  // 0 = no limit of the transport's own
};

struct Installation {
    std::string config_path;  // the plugins.json in use
    std::string plugin_dir;
    uint32_t hub_max_message = 0; // the hub's payload limit from plugins.json
    std::vector<Backend> backends; // in plugins.json order, enabled ones only

    const Backend *find(const std::string &name) const;
    // Largest payload a run over these backends can carry (what their hub announces: message_limit).
    uint64_t max_payload(const std::vector<const Backend *> &used) const;
};

// Reads plugins.json and tries to load every enabled plugin (then unloads it).
// Throws std::runtime_error when plugins.json is missing or invalid.
Installation discover(const std::string &config_path, const std::string &plugin_dir);

} // namespace bench
