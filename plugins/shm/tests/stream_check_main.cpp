// shm_stream_check: two processes stream numbered, checksummed messages of
// random sizes (1 B - 64 KiB) through one ring of a real shm segment
// (shm_open + mmap, process-shared semaphores): nothing may be lost,
// duplicated, reordered or corrupted. A correctness test, not a benchmark.
#include "segment.hpp"
#include "stream_check.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

int main(int argc, char **argv) {
    shmcheck::Options o;
    std::string err;
    if (!shmcheck::parse_args(argc, argv, o, err)) {
        std::fprintf(stderr, "shm_stream_check: %s\n", err.c_str());
        return 2;
    }
    // Record mode needs every message to fit in the ring; stream mode gets a
    // ring smaller than the largest message, so those go through in pieces.
    uint64_t ring_bytes = o.mode == shmcheck::Mode::record ? 256 * 1024 : 64 * 1024;
    ipchub::shm::Segment seg;
    std::string instance = "shmcheck-" + std::to_string(::getpid());
    int fd = ipchub::shm::create_segment(ipchub::shm::segment_name(instance, ::getpid(), 0), ring_bytes, 0600, seg, err);
    if (fd < 0) {
        std::fprintf(stderr, "shm_stream_check: %s\n", err.c_str());
        return 1;
    }
    ::close(fd); // the mapping is inherited by the child; the name is already gone
    auto start = std::chrono::steady_clock::now();
    pid_t child = ::fork();
    if (child < 0) return 1;
    if (child == 0) {
        std::string e = shmcheck::produce(seg.to_hub, o);
        if (!e.empty()) std::fprintf(stderr, "shm_stream_check: %s\n", e.c_str());
        ::_exit(e.empty() ? 0 : 1);
    }
    uint64_t bytes = 0;
    std::string e = shmcheck::consume(seg.to_hub, o, &bytes);
    if (!e.empty()) ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!e.empty()) {
        std::fprintf(stderr, "shm_stream_check: FAILED: %s\n", e.c_str());
        return 1;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "shm_stream_check: FAILED: the producer process failed\n");
        return 1;
    }
    std::printf("OK: %llu messages, %llu payload bytes in %.2f s (%s mode, ring %llu bytes)\n",
                (unsigned long long)o.messages, (unsigned long long)bytes, s,
                o.mode == shmcheck::Mode::record ? "record" : "stream", (unsigned long long)ring_bytes);
    return 0;
}
