// The shared segment of one shm connection: a header page (layout word,
// liveness flags, the control blocks of both rings) followed by the two
// data areas. Created by the hub, handed to the client as a descriptor.
//
//   offset 0                 SegmentHeader (magic, layout version, sizes, rings)
//   offset kDataOffset       to_hub data    (ring_bytes)   client -> hub
//   kDataOffset + ring_bytes to_client data (ring_bytes)   hub -> client
#pragma once

#include "ring.hpp"

#include <fcntl.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <string>

namespace ipchub::shm {

constexpr uint64_t kSegmentMagic = 0x4d53425548435049ull; // "IPCHUBSM" in memory (little-endian)
// Bump whenever SegmentHeader, RingHeader or the record format change: a
// client and a hub of different layouts then refuse each other by name.
constexpr uint32_t kLayoutVersion = 1;
constexpr uint64_t kDataOffset = 4096;

struct SegmentHeader {
    uint64_t magic;
    uint32_t layout_version;
    uint32_t data_offset;
    uint64_t ring_bytes;
    uint64_t segment_bytes;
    uint32_t hub_pid;
    uint32_t client_pid;
    std::atomic<uint32_t> hub_closed;    // the hub closed this connection (orderly)
    std::atomic<uint32_t> client_closed; // the client closed it (orderly)
    RingHeader to_hub;
    RingHeader to_client;
};
static_assert(sizeof(SegmentHeader) <= kDataOffset, "the segment header must fit in its page");

// One mapped segment and the two ring views over it.
struct Segment {
    void *base = nullptr;
    size_t size = 0;
    SegmentHeader *header = nullptr;
    Ring to_hub;
    Ring to_client;

    bool mapped() const { return base != nullptr; }
    void unmap(); // idempotent
};

// "ipchub.<instance>.shm.<pid>.<n>": the memfd's name. It names nothing in
// any file system; it only shows in /proc/<pid>/maps as
// "/memfd:ipchub.<...> (deleted)", so a reader of maps knows whose it is.
std::string segment_name(const std::string &instance, pid_t pid, unsigned n);
// The prefix every segment of `instance` starts with
// (inline: the integration tests look for it in /proc/<pid>/maps).
inline std::string segment_prefix(const std::string &instance) { return "ipchub." + instance + ".shm."; }

// The seals every segment carries before it leaves the hub: its size can
// never change again (a client that could shrink it would make the hub's
// next access a SIGBUS), and no seal can be added or removed.
constexpr int kSegmentSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW;

// Creates, sizes, seals and maps a fresh anonymous segment
// (memfd_create(MFD_ALLOW_SEALING), then F_SEAL_SHRINK | F_SEAL_GROW |
// F_SEAL_SEAL): no name exists to leak or to be opened by anyone else, and no
// holder of the descriptor can truncate it. Returns the descriptor (>= 0,
// close-on-exec) or a negative errno with a message in err.
int create_segment(const std::string &name, uint64_t ring_bytes, unsigned mode, Segment &out, std::string &err);

// Maps a segment received as a descriptor and checks its seals (so the hub
// cannot truncate it under the client either), layout word and sizes against
// this build. A mismatch is an error message, never a crash.
int map_segment(int fd, Segment &out, std::string &err);

// Checks a mapped header (also used by tests on hand-made headers).
int check_header(const SegmentHeader *h, uint64_t file_size, std::string &err);

// Removes /dev/shm names of `instance` that a crashed hub of an earlier
// ipchub version (which used shm_open, then shm_unlink) may have left.
// Segments of this version have no name at all. Returns how many.
int sweep_segments(const std::string &instance);

} // namespace ipchub::shm
