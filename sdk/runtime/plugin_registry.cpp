#include "plugin_registry.hpp"

#include "paths.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <cstring>

namespace ipchub {

namespace {

std::string version_text(uint32_t v) {
    return std::to_string(IPCHUB_ABI_MAJOR(v)) + "." + std::to_string(IPCHUB_ABI_MINOR(v));
}

// Members every plugin must provide, whatever its minor version.
const char *missing_member(const ipchub_plugin &t) {
    if (!t.name || !*t.name) return "name";
    if (!t.hub_init) return "hub_init";
    if (!t.hub_start) return "hub_start";
    if (!t.hub_stop) return "hub_stop";
    if (!t.hub_send) return "hub_send";
    if (!t.hub_set_receiving) return "hub_set_receiving";
    if (!t.hub_close) return "hub_close";
    if (!t.hub_cleanup) return "hub_cleanup";
    if (!t.client_connect) return "client_connect";
    if (!t.client_send) return "client_send";
    if (!t.client_recv) return "client_recv";
    if (!t.client_close) return "client_close";
    return nullptr;
}

} // namespace

struct PluginLoader {
    static PluginLoad load(const PluginSpec &spec, const std::string &plugin_dir) {
        PluginLoad out;
        std::string path = resolve_plugin_path(plugin_dir, spec.file);
        std::string who = "plugin '" + spec.name + "' (" + path + ")";
        auto fail = [&](const std::string &why) {
            out.error = who + ": " + why;
            return std::move(out);
        };

        dlerror();
        void *handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            const char *e = dlerror();
            std::string why = std::string("cannot load: ") + (e ? e : "unknown dlopen error");
            if (spec.file.empty() || spec.file[0] != '/')
                if (auto dirs = split_search_path(plugin_dir); dirs.size() > 1)
                    why += " (looked in " + join_search_path(dirs) + ")";
            return fail(why);
        }
        std::unique_ptr<LoadedPlugin> lp(new LoadedPlugin());
        lp->handle_ = handle;
        lp->path_ = path;
        lp->spec_ = spec;

        void *sym = ::dlsym(handle, IPCHUB_PLUGIN_ENTRY_SYMBOL);
        if (!sym)
            return fail("no entry point: the file does not export '" IPCHUB_PLUGIN_ENTRY_SYMBOL
                        "' (is it an ipchub plugin, built with IPCHUB_PLUGIN_EXPORT?)");
        ipchub_plugin_entry_fn entry;
        static_assert(sizeof entry == sizeof sym);
        std::memcpy(&entry, &sym, sizeof entry);
        const ipchub_plugin *table = entry(IPCHUB_ABI_VERSION);
        if (!table)
            return fail("the entry point returned no plugin table (the plugin cannot work with ABI " +
                        version_text(IPCHUB_ABI_VERSION) + ")");
        lp->declared_abi_ = table->abi_version;
        lp->declared_size_ = table->struct_size;
        if (IPCHUB_ABI_MAJOR(table->abi_version) != IPCHUB_ABI_VERSION_MAJOR)
            return fail("built for plugin ABI " + version_text(table->abi_version) + " but this ipchub speaks ABI " +
                        version_text(IPCHUB_ABI_VERSION) + "; rebuild the plugin against the ipchub " +
                        std::to_string(IPCHUB_ABI_VERSION_MAJOR) + ".x SDK headers");
        constexpr size_t minimum = offsetof(ipchub_plugin, client_close) + sizeof(table->client_close);
        if (table->struct_size < minimum)
            return fail("plugin table of " + std::to_string(table->struct_size) + " bytes is smaller than any ABI " +
                        std::to_string(IPCHUB_ABI_VERSION_MAJOR) + ".x table (" + std::to_string(minimum) +
                        " bytes): corrupt or not an ipchub plugin");
        // Copy what the plugin has; members beyond its struct_size stay NULL.
        std::memcpy(&lp->table_, table, std::min<size_t>(table->struct_size, sizeof lp->table_));
        lp->table_.struct_size = uint32_t(std::min<size_t>(table->struct_size, sizeof lp->table_));
        if (const char *m = missing_member(lp->table_)) return fail(std::string("plugin table has no ") + m);
        if (lp->table_.max_frame_size && lp->table_.max_frame_size < IPCHUB_MIN_FRAME_SIZE)
            return fail("declares max_frame_size " + std::to_string(lp->table_.max_frame_size) +
                        ", below IPCHUB_MIN_FRAME_SIZE (" + std::to_string(IPCHUB_MIN_FRAME_SIZE) +
                        "): the hub's own control frames would not fit");
        lp->name_ = lp->table_.name;
        if (lp->name_ != spec.name)
            return fail("the plugin calls itself '" + lp->name_ + "' but plugins.json names it '" + spec.name +
                        "'; make the two agree");
        out.plugin = std::move(lp);
        return out;
    }
};

LoadedPlugin::~LoadedPlugin() {
    if (handle_) ::dlclose(handle_);
}

std::string plugin_search_path(const HubConfig &config, const std::string &given) {
    std::vector<std::string> dirs = split_search_path(given);
    dirs.insert(dirs.end(), config.plugin_dirs.begin(), config.plugin_dirs.end());
    for (auto &d : split_search_path(default_plugin_dir())) dirs.push_back(d);
    return join_search_path(split_search_path(join_search_path(dirs))); // drops repeats
}

std::string resolve_plugin_path(const std::string &search_path, const std::string &file) {
    if (!file.empty() && file[0] == '/') return file;
    std::vector<std::string> dirs = split_search_path(search_path);
    for (auto &d : dirs)
        if (::access((d + "/" + file).c_str(), F_OK) == 0) return d + "/" + file;
    return (dirs.empty() ? std::string(".") : dirs[0]) + "/" + file;
}

PluginLoad load_plugin(const PluginSpec &spec, const std::string &plugin_dir) {
    return PluginLoader::load(spec, plugin_dir);
}

PluginSetLoad load_enabled_plugins(const HubConfig &config, const std::string &given, const BeforeLoad &before_load) {
    const std::string plugin_dir = plugin_search_path(config, given);
    PluginSetLoad out;
    for (const auto &spec : config.plugins) {
        if (!spec.enabled) continue;
        bool duplicate = false;
        for (auto &p : out.plugins) duplicate = duplicate || p->name() == spec.name;
        PluginLoad one;
        if (duplicate) {
            one.error = "plugin '" + spec.name + "' (" + resolve_plugin_path(plugin_dir, spec.file) +
                        "): duplicate name: a plugin called '" + spec.name + "' is already loaded";
        } else {
            if (before_load) before_load(spec, resolve_plugin_path(plugin_dir, spec.file));
            one = load_plugin(spec, plugin_dir);
        }
        if (one.plugin) {
            out.plugins.push_back(std::move(one.plugin));
        } else {
            out.skipped.push_back(one.error);
            if (spec.required) out.fatal = true;
        }
    }
    return out;
}

PluginLoad load_backend(const HubConfig &config, const std::string &given, const std::string &backend) {
    const std::string plugin_dir = plugin_search_path(config, given);
    const PluginSpec *spec = config.find(backend);
    PluginLoad out;
    std::string source = config.path.empty() ? "the configuration" : config.path;
    if (!spec) {
        out.error = "unknown backend '" + backend + "' (" + source + " offers: " + config.plugin_names() + ")";
        return out;
    }
    if (!spec->enabled) {
        out.error = "backend '" + backend + "' is disabled in " + source + " (enabled: " + config.plugin_names() + ")";
        return out;
    }
    return load_plugin(*spec, plugin_dir);
}

} // namespace ipchub
