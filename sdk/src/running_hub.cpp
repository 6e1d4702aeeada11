#include "running_hub.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace ipchub {

namespace {

// The pid holding an flock on the file with this device and inode, or 0.
// /proc/locks lines: "1: FLOCK  ADVISORY  WRITE 1234 00:2b:5678 0 EOF".
pid_t flock_holder(dev_t dev, ino_t ino) {
    std::ifstream locks("/proc/locks");
    for (std::string line; std::getline(locks, line);) {
        std::istringstream words(line);
        std::string ordinal, kind, advisory, mode, pid, where;
        if (!(words >> ordinal >> kind)) continue;
        if (kind == "->") words >> kind; // a waiter, listed under the holder
        if (kind != "FLOCK" || !(words >> advisory >> mode >> pid >> where)) continue;
        unsigned major_no = 0, minor_no = 0;
        unsigned long inode = 0;
        if (std::sscanf(where.c_str(), "%x:%x:%lu", &major_no, &minor_no, &inode) != 3) continue;
        if (inode == ino && major_no == major(dev) && minor_no == minor(dev) && mode == "WRITE")
            return pid_t(std::atol(pid.c_str()));
    }
    return 0;
}

} // namespace

std::optional<RunningHub> find_running_hub(const std::string &instance_dir) {
    std::string path = instance_dir + "/hub.lock";
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return std::nullopt;
    struct stat st {};
    char buf[1024] = {};
    ssize_t n = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? ::pread(fd, buf, sizeof buf - 1, 0) : -1;
    ::close(fd);
    if (n <= 0) return std::nullopt;
    RunningHub hub;
    hub.pid = flock_holder(st.st_dev, st.st_ino);
    if (hub.pid <= 0) return std::nullopt; // a dead hub's file
    std::istringstream text(std::string(buf, size_t(n)));
    for (std::string line; std::getline(text, line);) {
        if (line.rfind("backends:", 0) != 0) continue;
        std::istringstream names(line.substr(9));
        for (std::string name; names >> name;) hub.backends.push_back(name);
    }
    return hub;
}

} // namespace ipchub
