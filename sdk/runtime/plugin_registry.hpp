// Loading transport plugins: dlopen, the entry symbol, ABI negotiation and
// the checks that turn a broken .so into one clear line instead of a crash.
// The hub and every client load transports through this same code.
#pragma once

#include "config.hpp"

#include <ipchub/plugin.h>

#include <functional>
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

// Where plugin files are looked for, first match wins: `given` (--plugin-dir,
// repeatable, so a search path of its own), then the config's plugin_dirs,
// then the default directory (default_plugin_dir()), which always stays last
// so a plugin installed elsewhere loads beside the stock ones.
std::string plugin_search_path(const HubConfig &config, const std::string &given);

// Full path of a plugin file: absolute as given, else in the first directory
// of `search_path` (a ':'-separated list) that has it. When none has it, the
// first directory's: loading it then fails with dlopen's reason.
std::string resolve_plugin_path(const std::string &search_path, const std::string &file);

// Opens one plugin and checks everything that can be checked without running it.
PluginLoad load_plugin(const PluginSpec &spec, const std::string &search_path);

// The hub's view: every enabled plugin of a config, in order, with a line for
// each one skipped. `fatal` is set when a required plugin failed.
struct PluginSetLoad {
    std::vector<std::unique_ptr<LoadedPlugin>> plugins;
    std::vector<std::string> skipped; // one line each
    bool fatal = false;
};
// `plugin_dir`: as given by the user ("" for none); searched with
// plugin_search_path. `before_load` (may be empty) learns which file is
// about to be opened: a plugin can crash in its constructors, and the hub
// wants to say which one did.
using BeforeLoad = std::function<void(const PluginSpec &spec, const std::string &path)>;
PluginSetLoad load_enabled_plugins(const HubConfig &config, const std::string &plugin_dir,
                                   const BeforeLoad &before_load = {});

// The client's view: the one plugin named `backend`, or an error saying why
// not (unknown, disabled, cannot load).
PluginLoad load_backend(const HubConfig &config, const std::string &plugin_dir, const std::string &backend);

} // namespace ipchub
