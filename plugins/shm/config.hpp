// The shm transport's object in plugins.json: {"ring_bytes": <power of two>}.
#pragma once

#include <cstdint>
#include <string>

namespace ipchub::shm {

constexpr uint64_t kDefaultRingBytes = 1024 * 1024;

struct Config {
    uint64_t ring_bytes = kDefaultRingBytes; // each direction of every connection
};

// Parses `json` (null or "" = {}) into `out`. False with `error` set when it
// is not a JSON object, has a key other than ring_bytes (or "comment"), or a
// ring_bytes the ring cannot use; the message names the key or the value.
bool parse_config(const char *json, Config &out, std::string &error);

} // namespace ipchub::shm
