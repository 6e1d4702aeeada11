// What every run of one myipcbench invocation shares: the options, the
// installation (plugins.json, plugin directory, available backends), and the
// private places it works in (scratch directory for worker files, runtime
// directory and instance names for its hub and raw servers).
#pragma once

#include "backends.hpp"
#include "options.hpp"

#include <string>
#include <vector>

namespace bench {

struct Context {
    const Options *options = nullptr;
    Installation installation;
    std::string self;           // this executable (workers are itself)
    std::string hub_exe;        // myipchub
    std::string scratch;        // private directory for worker result files and logs
    std::string runtime_base;   // parent of the instance directories we create
    std::string instance_base;  // our instances are <instance_base>-hub and -raw
    unsigned runs = 0;

    // scratch/run-<n>: prefix for the files of the next run.
    std::string next_run_prefix() { return scratch + "/run-" + std::to_string(++runs); }
    // Arguments every worker gets: where plugins and config are, the run's sizes.
    std::vector<std::string> worker_args(const std::string &role, const std::string &backend, uint64_t size) const;
};

// Warm-up pings sent before the measured ones (connections, caches, page faults).
inline uint64_t warmup_pings(uint64_t pings) { return pings < 50 ? pings : 50; }

// Last lines of a log file, for failure messages.
std::string log_tail(const std::string &path, size_t lines = 6);

} // namespace bench
