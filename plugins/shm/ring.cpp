#include "ring.hpp"

#include <time.h>

namespace ipchub::shm {

int sem_wait_ms(sem_t *sem, int timeout_ms) {
    if (timeout_ms < 0) {
        while (sem_wait(sem) != 0)
            if (errno != EINTR) return -errno;
        return 1;
    }
    timespec deadline{};
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += long(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec += 1;
        deadline.tv_nsec -= 1000000000L;
    }
    for (;;) {
        // sem_clockwait (glibc >= 2.30): the monotonic clock, immune to
        // wall-clock changes. Like sem_wait it only enters the kernel when
        // the count is zero.
        if (sem_clockwait(sem, CLOCK_MONOTONIC, &deadline) == 0) return 1;
        if (errno == ETIMEDOUT) return 0;
        if (errno != EINTR) return -errno;
    }
}

} // namespace ipchub::shm
