#include "segment.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace ipchub::shm {

void Segment::unmap() {
    if (base) ::munmap(base, size);
    base = nullptr;
    header = nullptr;
    size = 0;
    to_hub = Ring();
    to_client = Ring();
}

std::string segment_name(const std::string &instance, pid_t pid, unsigned n) {
    std::string name = "/"; // appended, not "/" + string&&: GCC 12 -Wrestrict misfires on that at -O2 (bug 105329)
    name += segment_prefix(instance);
    return name + std::to_string(pid) + "." + std::to_string(n);
}

namespace {
void attach_rings(Segment &s, uint64_t ring_bytes) {
    auto *bytes = static_cast<uint8_t *>(s.base);
    s.header = static_cast<SegmentHeader *>(s.base);
    s.to_hub = Ring(&s.header->to_hub, bytes + kDataOffset, ring_bytes);
    s.to_client = Ring(&s.header->to_client, bytes + kDataOffset + ring_bytes, ring_bytes);
}
} // namespace

int create_segment(const std::string &name, uint64_t ring_bytes, unsigned mode, Segment &out, std::string &err) {
    if (!valid_ring_bytes(ring_bytes)) {
        err = "invalid ring size " + std::to_string(ring_bytes);
        return -EINVAL;
    }
    int fd = ::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        int e = errno;
        err = "shm_open " + name + ": " + std::strerror(e);
        return -e;
    }
    ::shm_unlink(name.c_str()); // the descriptor is all anyone needs from now on
    uint64_t size = kDataOffset + 2 * ring_bytes;
    void *base = MAP_FAILED;
    if (::ftruncate(fd, off_t(size)) != 0 ||
        (base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
        int e = errno;
        ::close(fd);
        err = "cannot size or map shared memory of " + std::to_string(size) + " bytes: " + std::strerror(e);
        return -e;
    }
    out.base = base;
    out.size = size_t(size);
    attach_rings(out, ring_bytes);
    SegmentHeader *h = out.header; // fresh pages are zero
    h->magic = kSegmentMagic;
    h->layout_version = kLayoutVersion;
    h->data_offset = uint32_t(kDataOffset);
    h->ring_bytes = ring_bytes;
    h->segment_bytes = size;
    h->hub_pid = uint32_t(::getpid());
    int rc = init_ring_header(&h->to_hub, ring_bytes, true);
    if (rc == 0) rc = init_ring_header(&h->to_client, ring_bytes, true);
    if (rc < 0) {
        out.unmap();
        ::close(fd);
        err = std::string("sem_init: ") + std::strerror(-rc);
        return rc;
    }
    // The hub starts asleep: the client's first record must ring its doorbell.
    h->to_hub.consumer_waiting.store(1);
    return fd;
}

int check_header(const SegmentHeader *h, uint64_t file_size, std::string &err) {
    if (file_size < kDataOffset || h->magic != kSegmentMagic) {
        err = "the shared segment is not an ipchub shm segment (bad magic): hub and client come from "
              "incompatible ipchub builds";
        return -EPROTO;
    }
    if (h->layout_version != kLayoutVersion) {
        err = "shm segment layout version " + std::to_string(h->layout_version) + " differs from this client's " +
              std::to_string(kLayoutVersion) + ": use a client built from the same ipchub version as the hub";
        return -EPROTO;
    }
    if (h->data_offset != kDataOffset || !valid_ring_bytes(h->ring_bytes) ||
        h->segment_bytes != kDataOffset + 2 * h->ring_bytes || file_size != h->segment_bytes) {
        err = "shm segment sizes are inconsistent (ring " + std::to_string(h->ring_bytes) + " bytes, segment " +
              std::to_string(h->segment_bytes) + ", file " + std::to_string(file_size) + ")";
        return -EPROTO;
    }
    return 0;
}

int map_segment(int fd, Segment &out, std::string &err) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        err = std::string("fstat of the shared segment: ") + std::strerror(errno);
        return -errno;
    }
    uint64_t size = uint64_t(st.st_size);
    if (size < kDataOffset || size > kDataOffset + 2 * kMaxRingBytes) {
        err = "the shared segment has an impossible size of " + std::to_string(size) + " bytes";
        return -EPROTO;
    }
    void *base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED) {
        err = std::string("cannot map the shared segment: ") + std::strerror(errno);
        return -errno;
    }
    auto *h = static_cast<SegmentHeader *>(base);
    int rc = check_header(h, size, err);
    if (rc < 0) {
        ::munmap(base, size);
        return rc;
    }
    out.base = base;
    out.size = size_t(size);
    attach_rings(out, h->ring_bytes); // the validated value, read once
    h->client_pid = uint32_t(::getpid());
    return 0;
}

int sweep_segments(const std::string &instance) {
    std::string prefix = segment_prefix(instance);
    DIR *d = ::opendir("/dev/shm");
    if (!d) return 0;
    int removed = 0;
    while (dirent *e = ::readdir(d)) {
        if (std::strncmp(e->d_name, prefix.c_str(), prefix.size()) != 0) continue;
        if (::shm_unlink((std::string("/") + e->d_name).c_str()) == 0) ++removed;
    }
    ::closedir(d);
    return removed;
}

} // namespace ipchub::shm
