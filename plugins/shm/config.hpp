// The shm transport's object in plugins.json: {"ring_bytes": <power of two>}.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ipchub::shm {

constexpr uint64_t kDefaultRingBytes = 1024 * 1024;

struct Config {
    uint64_t ring_bytes = kDefaultRingBytes; // each direction of every connection
};

// Parses `json` (null or "" = {}) into `out`. Unknown keys and bad values are
// refused with a message that names them. Returns 0 or -EINVAL.
int parse_config(const char *json, Config &out, char *err, size_t err_len);

} // namespace ipchub::shm
