// Loading transport plugins: dlopen, the entry symbol, ABI negotiation and
// the checks that turn a broken .so into one clear line instead of a crash.
// The hub and every client load transports through this same code.
#pragma once

#include "config.hpp"

#include <ipchub/plugin.h>

#include <memory>
#include <string>
#include <vector>

namespace ipchub {

// One opened plugin. The table is copied into a zero-filled struct of this
// build's size, so members the plugin's (older) header did not have read as
// NULL and are never called.
class LoadedPlugin {
public:
    ~LoadedPlugin();
    LoadedPlugin(const LoadedPlugin &) = delete;
    LoadedPlugin &operator=(const LoadedPlugin &) = delete;

    const ipchub_plugin &api() const { return table_; }
    const std::string &name() const { return name_; }
    const std::string &path() const { return path_; }
    const PluginSpec &spec() const { return spec_; }
    uint32_t declared_abi() const { return declared_abi_; }
    uint32_t declared_size() const { return declared_size_; }

private:
    friend struct PluginLoader;
    LoadedPlugin() = default;

    void *handle_ = nullptr;
    ipchub_plugin table_{};
    std::string name_;
    std::string path_;
    PluginSpec spec_;
    uint32_t declared_abi_ = 0;
    uint32_t declared_size_ = 0;
};

struct PluginLoad {
    std::unique_ptr<LoadedPlugin> plugin; // null on failure
    std::string error;                    // one line naming the file and the reason
};

// Full path of a plugin file: absolute as given, else inside plugin_dir.
std::string resolve_plugin_path(const std::string &plugin_dir, const std::string &file);

// Opens one plugin and checks everything that can be checked without running it.
PluginLoad load_plugin(const PluginSpec &spec, const std::string &plugin_dir);

// The hub's view: every enabled plugin of a config, in order, with a line for
// each one skipped. `fatal` is set when a required plugin failed.
struct PluginSetLoad {
    std::vector<std::unique_ptr<LoadedPlugin>> plugins;
    std::vector<std::string> skipped; // one line each
    bool fatal = false;
};
PluginSetLoad load_enabled_plugins(const HubConfig &config, const std::string &plugin_dir);

// The client's view: the one plugin named `backend`, or an error saying why
// not (unknown, disabled, cannot load).
PluginLoad load_backend(const HubConfig &config, const std::string &plugin_dir, const std::string &backend);

} // namespace ipchub
