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
    uint64_t messages = 100000;         // throughput stream length per run
    uint64_t pings = 1000;              // latency samples per run (after a warm-up)
    unsigned subscribers = 1;           // fan-out in hub mode
    unsigned timeout_s = 60;            // a run that takes longer fails

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

// Adds every option (visible and hidden) to `app`.
void add_options(CLI::App &app, Options &o);

// Checks what CLI11 cannot; throws CLI::ValidationError.
void validate(Options &o);

} // namespace bench
