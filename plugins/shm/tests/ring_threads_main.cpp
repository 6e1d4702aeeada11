// shm_ring_tsan: the ring with a producer and a consumer thread, both
// record and byte-stream mode, sleeping on the semaphores. Built with
// -fsanitize=thread (plugins/shm/CMakeLists.txt): TSan must report no race.
#include "stream_check.hpp"

#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

namespace {
int run(shmcheck::Mode mode, uint64_t ring_bytes) {
    shmcheck::Options o;
    o.mode = mode;
    o.messages = 20000;
    o.max_size = 8 * 1024;
    o.seed = 7;
    auto header = std::make_unique<ipchub::shm::RingHeader>();
    std::vector<uint8_t> data(ring_bytes);
    if (ipchub::shm::init_ring_header(header.get(), ring_bytes, false) != 0) return 1;
    ipchub::shm::Ring producer_view(header.get(), data.data(), ring_bytes);
    ipchub::shm::Ring consumer_view(header.get(), data.data(), ring_bytes);
    std::string produced;
    std::thread t([&] { produced = shmcheck::produce(producer_view, o); });
    uint64_t bytes = 0;
    std::string consumed = shmcheck::consume(consumer_view, o, &bytes);
    t.join();
    sem_destroy(&header->items);
    sem_destroy(&header->spaces);
    if (!produced.empty() || !consumed.empty()) {
        std::fprintf(stderr, "shm_ring_tsan: FAILED: %s %s\n", produced.c_str(), consumed.c_str());
        return 1;
    }
    std::printf("OK: %llu messages, %llu bytes (%s mode)\n", (unsigned long long)o.messages,
                (unsigned long long)bytes, mode == shmcheck::Mode::record ? "record" : "stream");
    return 0;
}
} // namespace

int main(int argc, char **argv) {
    if (argc != 1) {
        std::fprintf(stderr, "usage: shm_ring_tsan\n");
        return 2;
    }
    (void)argv;
    return run(shmcheck::Mode::record, 64 * 1024) | run(shmcheck::Mode::stream, 8 * 1024);
}
