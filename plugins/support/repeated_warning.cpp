#include "repeated_warning.hpp"

#include "clock.hpp"

namespace ipchub::plugin {

namespace {

std::string times(uint64_t n) { return n == 1 ? "once" : std::to_string(n) + " times"; }

} // namespace

void RepeatedWarning::report(const ipchub_host *host, int level, const std::string &text) {
    ++total_;
    long long now = monotonic_ms();
    if (last_logged_ms_ >= 0 && now - last_logged_ms_ < interval_ms_) {
        ++unlogged_;
        return;
    }
    std::string line = text;
    if (unlogged_ > 0) line += " (and " + times(unlogged_) + " more since the last such line)";
    host->log(host, level, line.c_str());
    last_logged_ms_ = now;
    unlogged_ = 0;
}

void RepeatedWarning::settle(const ipchub_host *host, int level, const std::string &text) {
    if (unlogged_ > 0) {
        std::string line = text + " (" + times(unlogged_) + " since the last such line)";
        host->log(host, level, line.c_str());
    }
    last_logged_ms_ = -1;
    unlogged_ = 0;
}

} // namespace ipchub::plugin
