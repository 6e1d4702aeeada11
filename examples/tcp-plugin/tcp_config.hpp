// The tcp plugin's "config" object from plugins.json:
//   {"address": "127.0.0.1", "port": 7878, "allow_non_loopback": false}
// The hub hands it over as compact JSON text. This is a deliberately small
// reader for one flat object of strings, whole numbers and booleans, so the
// plugin needs nothing beyond the ipchub SDK.
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
