// A warning that can repeat thousands of times a second (out of file
// descriptors, a flood of bad registrations) must not flood the log: it is
// said at most once per interval, and the next line says how many times it
// happened meanwhile. Hub thread only, like everything of a hub half.
#pragma once

#include <ipchub/plugin.h>

#include <cstdint>
#include <string>

namespace ipchub::plugin {

class RepeatedWarning {
public:
    explicit RepeatedWarning(long long interval_ms = 10'000) : interval_ms_(interval_ms) {}

    // One more occurrence of `text`: logged at `level` when the last line is
    // at least the interval old (with the count of the occurrences it did not
    // show), else only counted.
    void report(const ipchub_host *host, int level, const std::string &text);

    // The situation is over: says how many occurrences went unlogged, if any
    // (so a burst that ended is never half reported), and starts afresh.
    void settle(const ipchub_host *host, int level, const std::string &text);

    uint64_t total() const { return total_; } // every occurrence, logged or not

private:
    long long interval_ms_;
    long long last_logged_ms_ = -1; // monotonic; < 0: nothing logged since the last settle
    uint64_t unlogged_ = 0;
    uint64_t total_ = 0;
};

} // namespace ipchub::plugin
