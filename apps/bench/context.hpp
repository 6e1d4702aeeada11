// What every run of one myipcbench invocation shares: the options, the
// installation (plugins.json, plugin directory, available backends), and the
// private places it works in (scratch directory for worker files, runtime
// directory and instance names for its hub and raw servers).
#pragma once

#include "backends.hpp"
#include "options.hpp"
#include "run.hpp"

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
    std::vector<std::string> worker_args(const std::string &role, const std::string &backend, const RunSpec &spec) const;
};

// Warm-up pings sent before the measured ones (connections, caches, page faults).
inline uint64_t warmup_pings(uint64_t pings) { return pings < 50 ? pings : 50; }

// Messages streamed before anything is measured, so the throughput run does
// not pay for first-touch page faults of rings and buffers, backlogs growing
// to size, and cold caches: about 32 MiB, at least 16 messages, at most as
// many as the measured stream (and 100,000).
inline uint64_t warmup_messages(uint64_t messages, uint64_t size) {
    uint64_t n = (uint64_t{32} << 20) / (size ? size : 1);
    n = n < 16 ? 16 : n > 100000 ? 100000 : n;
    return n < messages ? n : messages;
}

// Receiver side of the warm-up stream: every message must arrive once.
struct WarmupCounter {
    uint64_t expected = 0, received = 0;
    uint64_t missing() const { return received < expected ? expected - received : 0; }
    uint64_t extra() const { return received > expected ? received - expected : 0; }
};

// Last lines of a log file, for failure messages.
std::string log_tail(const std::string &path, size_t lines = 6);

} // namespace bench
