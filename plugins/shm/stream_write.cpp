#include "stream_write.hpp"

namespace ipchub::shm {

size_t skip_iov(const iovec *iov, size_t iovcnt, size_t skip, iovec *out) {
    size_t n = 0;
    for (size_t i = 0; i < iovcnt && n < kMaxIov; ++i) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        out[n].iov_base = static_cast<char *>(iov[i].iov_base) + skip;
        out[n].iov_len = iov[i].iov_len - skip;
        skip = 0;
        ++n;
    }
    return n;
}

} // namespace ipchub::shm
