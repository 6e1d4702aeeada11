// One measurement: what was run (RunSpec) and what came out (RunResult).
#pragma once

#include "stats.hpp"

#include <cstdint>
#include <string>

namespace bench {

struct RunSpec {
    std::string mode;        // "raw" or "hub"
    std::string publisher;   // backend of the sending side
    std::string subscriber;  // backend of the receiving side(s)
    unsigned subscribers = 1;
    uint64_t size = 0;       // payload bytes
    uint64_t messages = 0;
    uint64_t pings = 0;

    // "socket (raw)", or "socket->hub->shm" (and " x4" for fan-out) for hub runs.
    std::string mechanism() const;
};

enum class Status { ok, failed, skipped };
const char *status_name(Status s);

struct RunResult {
    RunSpec spec;
    Status status = Status::ok;
    std::string reason; // why it failed or was skipped

    double seconds = 0;      // first send -> last receive of the throughput stream
    double msgs_per_s = 0;   // delivered (all subscribers)
    double mb_per_s = 0;     // payload bytes delivered / 1e6 / seconds
    LatencySummary latency;  // one-way, one message in flight
    uint64_t delivered = 0;  // data messages received, all subscribers
    uint64_t lost = 0, duplicated = 0, out_of_order = 0, corrupt = 0;

    bool clean() const { return lost == 0 && duplicated == 0 && out_of_order == 0 && corrupt == 0; }
    // Turns a run with any loss, duplicate, reordering or corruption into a failure.
    void judge();
};

} // namespace bench
