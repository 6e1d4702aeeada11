#include "plugin_list.hpp"

#include "plugin_registry.hpp"

#include <ipchub/plugin.h>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace ipchub::apps {

std::string capability_names(uint32_t caps) {
    static const std::pair<uint32_t, const char *> known[] = {{IPCHUB_CAP_MESSAGE_BOUNDARIES, "boundaries"},
                                                              {IPCHUB_CAP_FD_PASSING, "fd-passing"},
                                                              {IPCHUB_CAP_SPAWNED_CHILDREN, "spawned-children"},
                                                              {IPCHUB_CAP_NETWORK, "network"}};
    std::string out;
    for (auto &[bit, name] : known) {
        if (!(caps & bit)) continue;
        if (!out.empty()) out += ','; // appends, not "," + string: GCC 12 -Wrestrict misfires on that at -O2 (bug 105329)
        out += name;
        caps &= ~bit;
    }
    if (caps) { // bits of a newer ABI: shown, not hidden
        char hex[16];
        std::snprintf(hex, sizeof hex, "0x%x", caps);
        if (!out.empty()) out += ',';
        out += hex;
    }
    return out.empty() ? "-" : out;
}

std::string plugin_table(const HubConfig &config, const std::string &plugin_dir_option) {
    const std::string search = plugin_search_path(config, plugin_dir_option);
    std::vector<std::vector<std::string>> rows = {
        {"NAME", "STATE", "ABI", "TABLE", "VERSION", "CAPABILITIES", "MAX FRAME", "FILE", "DESCRIPTION"}};
    std::vector<std::string> why; // the reason under a row, "" for none
    why.push_back("");
    for (const PluginSpec &spec : config.plugins) {
        // Disabled plugins are loaded too (never initialised): what is on the
        // disk is worth knowing before enabling it.
        PluginLoad load = load_plugin(spec, search);
        std::string state = spec.enabled ? (spec.required ? "required" : "enabled") : "disabled";
        if (!load.plugin) {
            rows.push_back({spec.name, spec.enabled ? "unavailable" : "disabled", "-", "-", "-", "-", "-",
                            resolve_plugin_path(search, spec.file), "-"});
            why.push_back(load.error);
            continue;
        }
        const LoadedPlugin &p = *load.plugin;
        const ipchub_plugin &api = p.api();
        uint32_t abi = p.declared_abi();
        rows.push_back({spec.name, state,
                        std::to_string(IPCHUB_ABI_MAJOR(abi)) + "." + std::to_string(IPCHUB_ABI_MINOR(abi)),
                        std::to_string(p.declared_size()) + " B", api.version ? api.version : "-",
                        capability_names(api.capabilities),
                        api.max_frame_size ? std::to_string(api.max_frame_size) : "-", p.path(),
                        api.description ? api.description : "-"});
        why.push_back("");
    }
    std::vector<size_t> width(rows[0].size(), 0);
    for (auto &r : rows)
        for (size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
    std::string out = "plugins of " + (config.path.empty() ? std::string("the configuration") : config.path) +
                      ", searched in " + search + "; host ABI " + std::to_string(IPCHUB_ABI_VERSION_MAJOR) + "." +
                      std::to_string(IPCHUB_ABI_VERSION_MINOR) + "\n";
    for (size_t n = 0; n < rows.size(); ++n) {
        std::string line;
        for (size_t i = 0; i < rows[n].size(); ++i) {
            line += rows[n][i];
            if (i + 1 < rows[n].size()) line += std::string(width[i] - rows[n][i].size() + 2, ' ');
        }
        out += line + "\n";
        if (!why[n].empty()) out += "  why: " + why[n] + "\n";
    }
    return out;
}

} // namespace ipchub::apps
