#include "fd_limit.hpp"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace ipchub::core {

void raise_open_file_limit(const Log &log) {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == lim.rlim_max) return;
    rlim_t was = lim.rlim_cur;
    lim.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) {
        log.warn("cannot raise the open file limit from " + std::to_string(was) + " to " +
                 std::to_string(lim.rlim_max) + ": " + std::strerror(errno));
        return;
    }
    log.debug("open file limit raised from " + std::to_string(was) + " to " + std::to_string(lim.rlim_max));
}

} // namespace ipchub::core
