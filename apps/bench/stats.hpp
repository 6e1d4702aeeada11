// Latency figures from one-way samples (nanoseconds): average, nearest-rank
// percentiles and maximum.
#pragma once

#include <cstdint>
#include <vector>

namespace bench {

struct LatencySummary {
    uint64_t samples = 0;
    double avg_us = 0, p50_us = 0, p99_us = 0, max_us = 0;
};

// Sorts `ns` in place.
LatencySummary summarize(std::vector<uint64_t> &ns);

// Nearest-rank percentile (0 < p <= 100) of sorted samples.
uint64_t percentile(const std::vector<uint64_t> &sorted, double p);

} // namespace bench
