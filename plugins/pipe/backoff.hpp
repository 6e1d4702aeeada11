// Exponential back-off between restarts of a child: initial, 2x, 4x, ...
// capped at max. A child that ran for kStableRunMs or longer before it exited
// counts as healthy again: its next restart waits only `initial`.
// Header-only and pure so the unit tests check the schedule exactly.
#pragma once

#include <cstdint>

namespace ipchub::pipe {

// How long a child must run for its back-off to start over. Long enough that
// a crash loop (a child dying during start-up) keeps backing off, short
// enough that a child failing once a day restarts quickly.
constexpr uint64_t kStableRunMs = 10000;

class Backoff {
public:
    Backoff(uint32_t initial_ms, uint32_t max_ms) : initial_(initial_ms), max_(max_ms < initial_ms ? initial_ms : max_ms) {}

    // The delay before the next restart of a child that ran for `ran_ms`.
    uint32_t next(uint64_t ran_ms) {
        if (ran_ms >= kStableRunMs) failures_ = 0;
        uint64_t delay = initial_;
        for (unsigned i = 0; i < failures_ && delay < max_; ++i) delay *= 2;
        if (delay > max_) delay = max_;
        if (failures_ < 64) ++failures_;
        return uint32_t(delay);
    }

    // Consecutive quick restarts so far (0 after a stable run).
    unsigned failures() const { return failures_; }

private:
    uint32_t initial_, max_;
    unsigned failures_ = 0;
};

} // namespace ipchub::pipe
