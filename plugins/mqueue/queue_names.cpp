#include "queue_names.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <mqueue.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <cstdio>
#include <cstring>

namespace ipchub::mqueue {

namespace {
std::string prefix(const std::string &instance, uid_t hub_uid) {
    std::string out = "ipchub.";
    out += instance;
    out += ".u";
    out += std::to_string(hub_uid);
    out += ".mq.";
    return out;
}

bool all_digits(const std::string &s, size_t from, size_t to) {
    if (from >= to) return false;
    for (size_t i = from; i < to; ++i)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

} // namespace

std::string register_queue_name(const std::string &instance, uid_t hub_uid) {
    std::string out = "/";
    out += prefix(instance, hub_uid);
    out += "register";
    return out;
}

std::string client_queue_name(const std::string &instance, uid_t hub_uid, int pid, unsigned seq, bool up) {
    std::string out = "/";
    out += prefix(instance, hub_uid);
    out += std::to_string(pid);
    out += '.';
    out += std::to_string(seq);
    out += up ? ".up" : ".down";
    return out;
}

bool is_instance_queue(const std::string &instance, uid_t hub_uid, const std::string &entry) {
    std::string p = prefix(instance, hub_uid);
    if (entry.compare(0, p.size(), p) != 0) return false;
    std::string rest = entry.substr(p.size());
    if (rest == "register") return true;
    // <digits>.<digits>.up|down
    size_t dot1 = rest.find('.');
    if (dot1 == std::string::npos) return false;
    size_t dot2 = rest.find('.', dot1 + 1);
    if (dot2 == std::string::npos) return false;
    std::string tail = rest.substr(dot2 + 1);
    return all_digits(rest, 0, dot1) && all_digits(rest, dot1 + 1, dot2) && (tail == "up" || tail == "down");
}

std::string mqueue_mount_dir() {
    FILE *f = std::fopen("/proc/self/mounts", "re");
    if (!f) return {};
    char line[4096];
    std::string found;
    while (std::fgets(line, sizeof line, f)) {
        char dev[512], dir[2048], type[128];
        if (std::sscanf(line, "%511s %2047s %127s", dev, dir, type) == 3 && std::strcmp(type, "mqueue") == 0) {
            found = dir;
            break;
        }
    }
    std::fclose(f);
    return found;
}

int unlink_own_queue(const std::string &name) {
    // Opened, not stat'ed by name: works without the file system mounted,
    // and the descriptor tells the owner of exactly this queue.
    mqd_t q = ::mq_open(name.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (q == mqd_t(-1)) return errno == EACCES ? -EPERM : -errno;
    struct stat st {};
    bool ours = ::fstat(int(q), &st) == 0 && st.st_uid == ::geteuid();
    ::mq_close(q);
    if (!ours) return -EPERM;
    return ::mq_unlink(name.c_str()) == 0 ? 0 : -errno;
}

int unlink_instance_queues(const std::string &instance, uid_t hub_uid) {
    std::string dir = mqueue_mount_dir();
    if (dir.empty()) return -1;
    DIR *d = ::opendir(dir.c_str());
    if (!d) return -1;
    int removed = 0;
    while (dirent *e = ::readdir(d)) {
        std::string name = e->d_name;
        if (is_instance_queue(instance, hub_uid, name) && unlink_own_queue("/" + name) == 0) ++removed;
    }
    ::closedir(d);
    return removed;
}

} // namespace ipchub::mqueue
