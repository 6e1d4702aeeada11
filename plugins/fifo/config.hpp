// The FIFO plugin's "config" object from plugins.json.
#pragma once

#include <cstdint>
#include <string>

namespace ipchub::fifo {

struct FifoConfig {
    // Capacity asked for each client FIFO with F_SETPIPE_SZ (the Linux
    // default is 64 KiB). Larger pipes mean fewer wake-ups per megabyte and
    // more room for bursts. 0 keeps the kernel's default. When the kernel
    // refuses (above /proc/sys/fs/pipe-max-size, or the user is over
    // pipe-user-pages-soft) the default size is kept, silently.
    uint32_t pipe_size = 1024 * 1024;
    // How long a registered client may take to open its end (hub side).
    uint32_t handshake_timeout_ms = 5000;
    // Registrations whose handshake is still running, at most. A process
    // that registers and never opens its FIFOs costs three descriptors and a
    // timer until handshake_timeout_ms; beyond this many, new registrations
    // are ignored (the client's own timeout tells it) until some complete.
    uint32_t max_pending_registrations = 64;
};

// Parses `json` ("{}" gives the defaults). On failure returns false and
// says why in `error`.
bool parse_config(const char *json, FifoConfig &out, std::string &error);

} // namespace ipchub::fifo
