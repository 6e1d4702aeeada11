// For a transport's own tests: what its hub_init says to a given config.
#pragma once

#include <ipchub/plugin.h>

#include <string>

namespace ipchub::plugin::testing {

struct HubInitResult {
    int rc = 0;
    std::string error;
    bool state_set = false;
};

// Calls `hub_init` with `config_json` and otherwise harmless parameters (a
// runtime directory that does not exist; hub_init must not create anything).
// A state it returns is freed with `hub_cleanup`.
inline HubInitResult probe_hub_init(decltype(ipchub_plugin::hub_init) hub_init,
                                    decltype(ipchub_plugin::hub_cleanup) hub_cleanup, const char *config_json) {
    ipchub_hub_params params{};
    params.abi_version = IPCHUB_ABI_VERSION;
    params.struct_size = sizeof params;
    params.instance = "probe";
    params.runtime_dir = "/nonexistent/ipchub-probe";
    params.config_json = config_json;
    params.file_mode = 0600;
    static const ipchub_host host{};
    void *state = nullptr;
    char err[512] = "";
    HubInitResult r;
    r.rc = hub_init(&host, &params, &state, err, sizeof err);
    r.error = err;
    r.state_set = state != nullptr;
    if (state) hub_cleanup(state);
    return r;
}

} // namespace ipchub::plugin::testing
