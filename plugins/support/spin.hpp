// Busy-waiting, briefly and politely: for transports whose peer signals in
// memory (shm) and would otherwise cost a system call per wake-up.
#pragma once

#include <cstdint>

namespace ipchub::plugin {

// Tells the CPU this is a spin loop (saves power, frees the sibling
// hyper-thread); nothing on architectures without such a hint.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

// Polls `ready()` for up to `spin_us` microseconds, giving the CPU away every
// few rounds (a spinner on a machine with fewer cores than busy processes
// would otherwise hold its core for a whole time slice while the process it
// waits for cannot run). True as soon as ready() is, false when the time is
// up (or spin_us is 0): then the caller sleeps as usual.
bool spin_until(uint32_t spin_us, bool (*ready)(void *), void *arg);
template <typename Ready> bool spin_until(uint32_t spin_us, const Ready &ready) {
    return spin_until(spin_us, [](void *r) { return bool((*static_cast<const Ready *>(r))()); },
                      const_cast<void *>(static_cast<const void *>(&ready)));
}

} // namespace ipchub::plugin
