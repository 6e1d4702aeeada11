// The tcp plugin's "config" object from plugins.json:
//   {"address": "127.0.0.1", "port": 7878, "allow_non_loopback": false}
// Read with the plugin kit's config_object.hpp: unknown keys are refused,
// naming the key and the ones allowed, like every stock transport.
#pragma once

#include <string>

namespace tcp_plugin {

struct Config {
    std::string address = "127.0.0.1";
    int port = 7878;
    bool allow_non_loopback = false;
};

// Parses `json` into `out`. Returns "" on success, else one line saying what
// is wrong (unknown key, wrong type, bad value).
std::string parse_config(const char *json, Config &out);

} // namespace tcp_plugin
