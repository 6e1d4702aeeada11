#include "queue_names.hpp"

#include <dirent.h>
#include <mqueue.h>

#include <cstdio>
#include <cstring>

namespace ipchub::mqueue {

namespace {
std::string prefix(const std::string &instance) { return "ipchub." + instance + ".mq."; }

bool all_digits(const std::string &s, size_t from, size_t to) {
    if (from >= to) return false;
    for (size_t i = from; i < to; ++i)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

// "/" + prefix + tail by appending: GCC 12 at -O2/-O3 reports a false
// -Wrestrict on `"/" + std::string&&` (an insert at the front, GCC bug 105329),
// which breaks Release builds with IPCHUB_WERROR.
std::string queue_path(const std::string &instance, const std::string &tail) {
    std::string name = "/";
    name += prefix(instance);
    name += tail;
    return name;
}
} // namespace

std::string register_queue_name(const std::string &instance) { return queue_path(instance, "register"); }

std::string client_queue_name(const std::string &instance, int pid, unsigned seq, bool up) {
    return queue_path(instance, std::to_string(pid) + "." + std::to_string(seq) + (up ? ".up" : ".down"));
}

bool is_instance_queue(const std::string &instance, const std::string &entry) {
    std::string p = prefix(instance);
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

int unlink_instance_queues(const std::string &instance) {
    std::string dir = mqueue_mount_dir();
    if (dir.empty()) return -1;
    DIR *d = ::opendir(dir.c_str());
    if (!d) return -1;
    int removed = 0;
    while (dirent *e = ::readdir(d)) {
        std::string name = e->d_name;
        if (is_instance_queue(instance, name) && ::mq_unlink(("/" + name).c_str()) == 0) ++removed;
    }
    ::closedir(d);
    return removed;
}

} // namespace ipchub::mqueue
