#include "clock.hpp"

#include <time.h>

#include <climits>

namespace ipchub::plugin {

long long monotonic_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<long long>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

long long monotonic_us() { return monotonic_ns() / 1000; }

long long monotonic_ms() { return monotonic_ns() / 1000000; }

int Deadline::left_ms() const {
    if (at_ms_ < 0) return -1;
    long long left = at_ms_ - monotonic_ms();
    if (left < 0) return 0;
    return left > INT_MAX ? INT_MAX : static_cast<int>(left);
}

} // namespace ipchub::plugin
