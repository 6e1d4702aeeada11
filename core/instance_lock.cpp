#include "instance_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

namespace ipchub::core {

namespace {
pid_t read_pid(int fd) {
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    return n > 0 ? pid_t(std::atoi(buf)) : 0;
}

// "" for a regular file of ours with one name, else what is wrong with it.
std::string not_our_file(int fd) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return std::string("cannot be inspected: ") + std::strerror(errno);
    if (!S_ISREG(st.st_mode)) return "is not a regular file";
    if (st.st_uid != ::geteuid())
        return "belongs to uid " + std::to_string(st.st_uid) + ", not to this hub's uid " + std::to_string(::geteuid());
    if (st.st_nlink != 1) return "has " + std::to_string(st.st_nlink) + " names (a hard link to another file?)";
    return "";
}
} // namespace

InstanceLock::~InstanceLock() { release(); }

InstanceLock::Result InstanceLock::acquire(const std::string &path, std::string &error, pid_t &previous_pid) {
    int fd = -1;
    for (int attempt = 0; fd < 0; ++attempt) {
        previous_pid = 0;
        // O_NOFOLLOW: a planted hub.lock -> victim must not get our pid
        // written into the victim; fstat: nor may a FIFO, a device or a file
        // of another user (or one hard-linked from elsewhere).
        fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
        if (fd < 0) {
            int e = errno;
            error = e == ELOOP ? "lock file " + path + " is a symbolic link: refusing to follow it (remove it)"
                               : "cannot open lock file " + path + ": " + std::strerror(e);
            return e == ELOOP ? Result::refused : Result::held;
        }
        if (std::string why = not_our_file(fd); !why.empty()) {
            ::close(fd);
            error = "lock file " + path + " " + why + ": refusing to use it (remove it)";
            return Result::refused;
        }
        previous_pid = read_pid(fd);
        if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            ::close(fd);
            error = e == EWOULDBLOCK ? "already running as pid " + std::to_string(previous_pid) + " (lock " + path + ")"
                                     : "cannot lock " + path + ": " + std::strerror(e);
            return Result::held;
        }
        // The holder may have unlinked the file between our open and flock
        // (release order): then we locked an orphan and must start over.
        struct stat mine {}, current {};
        if (::fstat(fd, &mine) != 0 || ::lstat(path.c_str(), &current) != 0 || mine.st_ino != current.st_ino ||
            mine.st_dev != current.st_dev) {
            ::close(fd);
            fd = -1;
            if (attempt > 10) {
                error = "lock file " + path + " keeps changing";
                return Result::held;
            }
        }
    }
    std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) != ssize_t(pid.size())) {
        error = "cannot write pid to " + path + ": " + std::strerror(errno);
        ::close(fd);
        return Result::held;
    }
    fd_ = fd;
    path_ = path;
    bool dead_owner = previous_pid > 0 && previous_pid != ::getpid();
    return dead_owner ? Result::taken_over : Result::acquired;
}

void InstanceLock::record_backends(const std::vector<std::string> &names) {
    if (fd_ < 0) return;
    std::string text = std::to_string(::getpid()) + "\nbackends:";
    for (auto &n : names) text += " " + n;
    text += "\n";
    // Best effort: the list only improves an error message of clients.
    if (::pwrite(fd_, text.data(), text.size(), 0) != ssize_t(text.size())) return;
}

void InstanceLock::release() {
    if (fd_ < 0) return;
    // Unlink before unlocking: a hub starting right now then creates a new file.
    ::unlink(path_.c_str());
    ::close(fd_);
    fd_ = -1;
}

} // namespace ipchub::core
