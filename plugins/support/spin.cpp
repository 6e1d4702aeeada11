#include "spin.hpp"

#include "clock.hpp"

#include <sched.h>

namespace ipchub::plugin {

namespace {
constexpr unsigned kYieldEvery = 4; // rounds; the hub's loop uses the same rhythm (core/event_loop.cpp)
} // namespace

bool spin_until(uint32_t spin_us, bool (*ready)(void *), void *arg) {
    if (spin_us == 0) return false;
    const long long until = monotonic_ns() + static_cast<long long>(spin_us) * 1000;
    for (unsigned round = 1;; ++round) {
        if (ready(arg)) return true;
        if (monotonic_ns() >= until) return false;
        if (round == 1 || round % kYieldEvery == 0) // first: let a process on this core take our message
            ::sched_yield();
        else
            cpu_relax();
    }
}

} // namespace ipchub::plugin
