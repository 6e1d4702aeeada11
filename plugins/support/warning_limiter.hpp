// One log line per burst of the same complaint: a client that sends garbage
// (or floods registrations) as fast as it can must not flood the hub's log.
// The first occurrence is logged at once; later ones within `interval_ms`
// are counted and reported with the next line ("... (and N more)").
#pragma once

#include "clock.hpp"

#include <cstdint>
#include <string>

namespace ipchub::plugin {

class WarningLimiter {
public:
    explicit WarningLimiter(long long interval_ms = 10000) : interval_ms_(interval_ms) {}

    // Returns the line to log now, or "" when this occurrence is only counted.
    std::string note(const std::string &text) {
        long long now = monotonic_ms();
        if (logged_ && now - last_ms_ < interval_ms_) {
            ++suppressed_;
            return {};
        }
        std::string line = text;
        if (suppressed_) line += " (and " + std::to_string(suppressed_) + " more like it since the last such line)";
        logged_ = true;
        last_ms_ = now;
        suppressed_ = 0;
        return line;
    }

private:
    long long interval_ms_;
    long long last_ms_ = 0;
    bool logged_ = false;
    uint64_t suppressed_ = 0;
};

} // namespace ipchub::plugin
