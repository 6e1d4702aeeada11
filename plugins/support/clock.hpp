// Monotonic time and deadlines: every wait of a transport is bounded, and
// measured on CLOCK_MONOTONIC so setting the wall clock never stretches or
// cuts it.
#pragma once

namespace ipchub::plugin {

long long monotonic_ns();
long long monotonic_us();
long long monotonic_ms();

// A point in time to wait until, or none (wait forever). The timeouts of the
// ABI (< 0: forever) map onto it directly.
class Deadline {
public:
    // `timeout_ms` from now; a negative timeout means no deadline.
    static Deadline after_ms(long long timeout_ms) {
        return Deadline(timeout_ms < 0 ? -1 : monotonic_ms() + timeout_ms);
    }
    static Deadline never() { return Deadline(-1); }

    bool is_never() const { return at_ms_ < 0; }
    // Milliseconds left, for poll(): -1 with no deadline, 0 once it passed,
    // at most INT32_MAX.
    int left_ms() const;
    bool passed() const { return at_ms_ >= 0 && monotonic_ms() >= at_ms_; }

private:
    explicit Deadline(long long at_ms) : at_ms_(at_ms) {}
    long long at_ms_; // on monotonic_ms(); < 0: never
};

} // namespace ipchub::plugin
