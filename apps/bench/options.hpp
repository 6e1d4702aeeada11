// myipcbench's command line: what to measure (modes, backends, pairs, sizes,
// counts) and where to write results. The hidden --worker options are how the
// tool runs its own measuring processes (it executes itself in a worker role).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bench {

struct Options {
    // What to measure.
    std::string mode = "both"; // raw | hub | both
    std::vector<std::string> backends;  // empty = every available one
    std::vector<std::string> pairs;     // "pub:sub" backend pairs for hub mode; empty = the defaults
    bool default_pairs = true;          // pairs not given on the command line
    std::vector<uint64_t> sizes{1024};  // payload bytes
    uint64_t messages = 0;              // throughput stream length per run; 0 = default_messages(size)
    uint64_t pings = 1000;              // latency samples per run (after a warm-up)
    unsigned subscribers = 1;           // fan-out in hub mode
    unsigned timeout_s = 60;            // a run that takes longer fails
    uint32_t spin_us = 0;               // hub mode: the private hub's --spin-us

    // Outputs.
    std::string json_path, csv_path;

    // Where the hub lives.
    std::string instance, runtime_dir, config_path, plugin_dir;
    bool use_running_hub = false;
    std::string hub_path; // myipchub to start ("" = next to myipcbench)

    // Hidden: a worker process of a run.
    std::string worker;      // raw-server | raw-client | hub-sub | hub-pub
    std::string backend;     // the worker's transport
    std::string channel;     // hub mode: the data channel (pongs go to <channel>.pong)
    std::string out_path;    // JSON result file (<out>.ready marks "ready")
    std::string go_path;     // hub publisher: start once this file exists
    unsigned index = 0;      // subscriber number
    uint64_t size = 0;       // the run's message size
};

// Messages per throughput run when --messages is not given: 1 GiB worth of
// payload, at least 1,000 and at most 1,000,000 (1 KiB: 1,000,000), so every
// size runs long enough to leave start-up noise behind and none runs for ever.
inline uint64_t default_messages(uint64_t size) {
    uint64_t n = (uint64_t{1} << 30) / (size ? size : 1);
    return n < 1000 ? 1000 : n > 1000000 ? 1000000 : n;
}

// Adds every option (visible and hidden) to `app`.
void add_options(CLI::App &app, Options &o);

// Checks what CLI11 cannot; throws CLI::ValidationError.
void validate(Options &o);

} // namespace bench
