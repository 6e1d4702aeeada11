// A producer and a consumer of numbered, checksummed messages of random
// sizes over one shm ring, blocking on the ring's semaphores exactly as the
// transport's client half does. Run in two processes (stream_check_main.cpp)
// and in two threads under ThreadSanitizer (ring_threads_main.cpp).
#pragma once

#include "ring.hpp"

#include <cstdint>
#include <string>

namespace shmcheck {

enum class Mode { record, stream };

struct Options {
    Mode mode = Mode::record;
    uint64_t messages = 1000000;
    uint64_t seed = 1;
    size_t max_size = 64 * 1024; // payload sizes are log-uniform in [1, max_size]
};

// Both return "" on success, else what went wrong. Each gives up when the
// other side makes no progress for 10 s (a dead peer never hangs the test).
std::string produce(ipchub::shm::Ring &ring, const Options &o);
std::string consume(ipchub::shm::Ring &ring, const Options &o, uint64_t *bytes);

bool parse_args(int argc, char **argv, Options &o, std::string &err);

} // namespace shmcheck
