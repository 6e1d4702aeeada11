// The shm transport's object in plugins.json:
//   {"ring_bytes": <power of two>, "handshake_timeout_ms": N, "max_pending_handshakes": N}
#pragma once

#include <cstdint>
#include <string>

namespace ipchub::shm {

constexpr uint64_t kDefaultRingBytes = 1024 * 1024;

struct Config {
    uint64_t ring_bytes = kDefaultRingBytes; // each direction of every connection
    // A connection to shm.sock that has not sent its hello by then is closed.
    // A real client sends it right after connect; 5 s leaves room for a
    // loaded machine (the same default as the fifo transport's).
    uint32_t handshake_timeout_ms = 5000;
    // Connections to shm.sock still in their handshake (accepted, hello not
    // yet answered) at most; more are closed at once, with one log line per
    // burst. Each costs a descriptor and a timer until its hello or timeout.
    uint32_t max_pending_handshakes = 256;
};

// Parses `json` (null or "" = {}) into `out`. False with `error` set when it
// is not a JSON object, has a key it does not know, or a value out of range;
// the message names the key and the value.
bool parse_config(const char *json, Config &out, std::string &error);

} // namespace ipchub::shm
