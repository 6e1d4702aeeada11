#include "leftovers.hpp"

#include "pidfd.hpp"
#include "registration.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace ipchub::fifo {

int remove_leftovers(const std::string &dir, Leftovers which, std::string *error) {
    DIR *d = ::opendir(dir.c_str());
    if (!d) {
        if (errno == ENOENT) return 0;
        if (error) *error = "cannot read " + dir + ": " + std::strerror(errno);
        return -errno;
    }
    int removed = 0, failure = 0;
    while (dirent *e = ::readdir(d)) {
        uint32_t pid = 0;
        NameKind kind = classify(e->d_name, &pid);
        if (kind == NameKind::other) continue;
        if (which == Leftovers::dead_clients_only && (kind != NameKind::client_fifo || plugin::process_alive(pid))) continue;
        // Only FIFOs: a user's regular file that happens to match stays.
        struct stat st {};
        if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISFIFO(st.st_mode)) continue;
        if (::unlinkat(::dirfd(d), e->d_name, 0) == 0) {
            ++removed;
        } else if (errno != ENOENT) {
            failure = -errno;
            if (error) *error = "cannot remove " + dir + "/" + e->d_name + ": " + std::strerror(errno);
        }
    }
    ::closedir(d);
    return failure ? failure : removed;
}

} // namespace ipchub::fifo
