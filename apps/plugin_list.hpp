// myipchub --list-plugins: every plugin of a plugins.json, enabled or not,
// loaded (never started) to show what it declares, or why it cannot load.
#pragma once

#include "config.hpp"

#include <string>

namespace ipchub::apps {

// The table, one row per plugin in config order: name, state (enabled,
// disabled, or unavailable with the reason on the next line), the ABI and
// table size the plugin declares, its version, capabilities, own frame
// limit, file and description.
std::string plugin_table(const HubConfig &config, const std::string &plugin_dir_option);

// "boundaries,network" for IPCHUB_CAP_* bits; "-" for none.
std::string capability_names(uint32_t capabilities);

} // namespace ipchub::apps
