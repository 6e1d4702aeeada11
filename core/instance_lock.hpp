// One hub per instance: an flock()ed lock file holding the owner's pid in
// the instance's runtime directory. The kernel drops the lock when its holder
// dies, so a lock left by a dead hub is simply taken over.
#pragma once

#include <string>
#include <vector>
#include <sys/types.h>

namespace ipchub::core {

class InstanceLock {
public:
    // refused: the lock file is a symbolic link, not a regular file, or not
    // ours (a squatter's trap); `error` says which.
    enum class Result { acquired, taken_over, held, refused };

    ~InstanceLock();

    // `previous_pid` is the pid found in the file: the holder when `held`,
    // the dead hub when `taken_over`.
    Result acquire(const std::string &path, std::string &error, pid_t &previous_pid);
    // Adds "backends: a b c" under the pid, once the transports are up, so a
    // client of a backend this hub does not offer can be told which it does
    // (read only while the lock is held: a dead hub's list means nothing).
    void record_backends(const std::vector<std::string> &names);
    void release(); // unlocks and removes the file
    const std::string &path() const { return path_; }

private:
    int fd_ = -1;
    std::string path_;
};

} // namespace ipchub::core
