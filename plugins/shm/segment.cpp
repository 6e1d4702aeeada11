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
    return segment_prefix(instance) + std::to_string(pid) + "." + std::to_string(n);
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
    int fd = ::memfd_create(name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        int e = errno;
        err = "memfd_create " + name + ": " + std::strerror(e);
        return -e;
    }
    uint64_t size = kDataOffset + 2 * ring_bytes;
    void *base = MAP_FAILED;
    const char *step = "size";
    errno = 0;
    // fchmod: the memfd is reachable through /proc/<hub pid>/fd only by those
    // who may ptrace the hub; the mode keeps it as private as a named object.
    bool ok = ::fchmod(fd, mode_t(mode)) == 0 && ::ftruncate(fd, off_t(size)) == 0;
    if (ok) {
        step = "seal";
        ok = ::fcntl(fd, F_ADD_SEALS, kSegmentSeals) == 0 && (::fcntl(fd, F_GET_SEALS) & kSegmentSeals) == kSegmentSeals;
    }
    if (ok) {
        step = "map";
        base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        ok = base != MAP_FAILED;
    }
    if (!ok) {
        int e = errno ? errno : EPERM;
        ::close(fd);
        err = std::string("cannot ") + step + " a shared segment of " + std::to_string(size) + " bytes: " + std::strerror(e);
        return -e;
    }
    out.base = base;
    out.size = size_t(size);
    SegmentHeader *h = static_cast<SegmentHeader *>(base); // fresh pages are zero
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
    attach_rings(out, ring_bytes); // after init: each view takes its indices from the header once
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
    int seals = ::fcntl(fd, F_GET_SEALS);
    if (seals < 0 || (seals & kSegmentSeals) != kSegmentSeals) {
        err = "the hub's shared segment is not sealed against resizing (an ipchub hub of an older version, or not "
              "an ipchub hub): refusing it, since a resize would crash this process";
        return -EPROTO;
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
