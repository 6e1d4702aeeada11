// plugins.json: which transports the hub loads and how each is configured,
// plus the hub's own limits. Parsed once, validated with errors that name the
// file, the place and what was expected (never an exception trace).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ipchub {

struct PluginSpec {
    std::string name;
    std::string file;     // relative to the plugin directory, or absolute
    bool enabled = true;
    bool required = false;
    std::string config_json = "{}"; // the plugin's own "config" object, serialised
};

struct HubSettings {
    uint32_t max_message_size = 1024 * 1024;       // payload bytes
    size_t subscriber_backlog_bytes = 8 * 1024 * 1024; // per connection, before publishers pause
    uint32_t file_mode = 0600;                     // named IPC objects
    uint32_t shutdown_drain_ms = 2000;             // how long stop waits for backlogs to drain
    // Microseconds the hub (and its shm clients) keep polling after activity
    // before they sleep: 0 (default) never spins; see docs/benchmarks.md.
    uint32_t spin_us = 0;

    // Budgets against a buggy or hostile client (docs/security.md). Each has
    // a "hub" key of the same name; the ERROR a client gets names it.
    uint32_t max_connections = 4096;          // live connections, all transports
    uint32_t max_connections_per_uid = 1024;  // of one user, where the transport knows it ("uid N" in its peer text)
    uint32_t hello_timeout_ms = 10000;        // a connection that sends no HELLO within this is closed
    size_t max_partial_bytes_total = 128ull << 20; // half-received frames held for all clients together
    size_t max_backlog_bytes_total = 256ull << 20; // bytes owed to all subscribers together
    uint32_t max_subscriptions_per_connection = 10000;
    uint32_t max_channels = 100000;           // channels with at least one subscriber
    uint32_t stats_per_second = 20;           // STATS requests per connection (a burst of as many is fine)
};
constexpr uint32_t kMaxSpinUs = 1000000; // a spin longer than a second is a configuration mistake

struct HubConfig {
    std::string path; // where it was read from ("" for built-in text)
    // "plugin_dirs": more directories to look for plugin files in, searched
    // after --plugin-dir and before the default directory. Relative entries
    // are relative to the folder of the config file (so a config and the
    // plugins installed beside it move together), already resolved here.
    std::vector<std::string> plugin_dirs;
    std::vector<PluginSpec> plugins;
    HubSettings hub;

    const PluginSpec *find(std::string_view name) const;
    std::string plugin_names() const; // "socket, fifo" for messages
};

class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

HubConfig parse_config(std::string_view text, const std::string &path);
HubConfig load_config_file(const std::string &path);

} // namespace ipchub
