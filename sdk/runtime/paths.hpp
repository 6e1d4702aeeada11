// Where things live: the instance's runtime directory, the plugin directory
// and the default plugins.json. One set of rules for the hub and every client,
// so a client always finds the hub it means.
#pragma once

#include <string>
#include <vector>

namespace ipchub {

// Instance names follow channel rules: [A-Za-z0-9._-], 1..64 characters,
// and do not start with '.' (so never "." or "..").
bool is_valid_instance(const std::string &name);

// The instance a tool talks to and the directory that holds its socket,
// FIFOs, lock and pid file.
struct Endpoint {
    std::string instance;     // "default" unless told otherwise
    std::string runtime_base; // parent of every instance's directory
    std::string instance_dir; // runtime_base + "/" + instance
    bool base_is_default = true; // the base is ours to remove when empty
};

// Resolution order: explicit argument, then IPCHUB_INSTANCE /
// IPCHUB_RUNTIME_DIR, then the defaults ("default";
// $XDG_RUNTIME_DIR/ipchub or /tmp/ipchub-<uid>). Throws std::invalid_argument
// for a bad instance name.
Endpoint resolve_endpoint(const std::string &instance, const std::string &runtime_dir);

// The directory of the running executable and of libipchub itself.
std::string executable_dir();
std::string library_dir();

// Default plugin directory: IPCHUB_PLUGIN_DIR, else <exe>/../lib/ipchub/plugins,
// else <libipchub>/ipchub/plugins (the first that exists). IPCHUB_PLUGIN_DIR
// may be a search path (see below): a hub exports its whole search path
// there, so the children it starts find the same plugins.
std::string default_plugin_dir();

// A plugin search path is a list of directories separated by ':', like PATH,
// searched in order. Empty entries are dropped, repeated ones kept once (the
// first time).
std::vector<std::string> split_search_path(const std::string &path);
std::string join_search_path(const std::vector<std::string> &dirs);

// Candidate plugins.json files in lookup order (IPCHUB_CONFIG first, then
// <exe>/../etc/ipchub, <exe>/../share/ipchub, the same beside libipchub's
// prefix). find_default_config returns the first that exists, or "".
std::vector<std::string> default_config_candidates();
std::string find_default_config();

// mkdir -p with `mode` for directories it creates.
int make_dirs(const std::string &path, unsigned mode);

} // namespace ipchub
