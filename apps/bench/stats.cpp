#include "stats.hpp"

#include <algorithm>
#include <cmath>

namespace bench {

uint64_t percentile(const std::vector<uint64_t> &sorted, double p) {
    if (sorted.empty()) return 0;
    // Nearest rank: the smallest sample with at least p% of samples <= it.
    auto rank = size_t(std::ceil(p / 100.0 * double(sorted.size())));
    rank = std::clamp<size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

LatencySummary summarize(std::vector<uint64_t> &ns) {
    LatencySummary s;
    if (ns.empty()) return s;
    std::sort(ns.begin(), ns.end());
    long double total = 0;
    for (uint64_t v : ns) total += v;
    s.samples = ns.size();
    s.avg_us = double(total / ns.size()) / 1000.0;
    s.p50_us = double(percentile(ns, 50)) / 1000.0;
    s.p99_us = double(percentile(ns, 99)) / 1000.0;
    s.max_us = double(ns.back()) / 1000.0;
    return s;
}

} // namespace bench
