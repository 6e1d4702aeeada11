#include "paths.hpp"

#include "frame.hpp"

#include <dlfcn.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

namespace ipchub {

namespace {

std::string env(const char *name) {
    const char *v = std::getenv(name);
    return v ? v : "";
}

std::string parent_dir(const std::string &path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

bool exists(const std::string &path) { return ::access(path.c_str(), F_OK) == 0; }

// Collapses "a/bin/../lib" into "a/lib" for readable messages.
std::string tidy(const std::string &path) {
    char buf[PATH_MAX];
    if (::realpath(path.c_str(), buf)) return buf;
    return path;
}

} // namespace

// A leading dot would allow "." and ".." (the runtime base itself, or its
// parent, as the instance directory) and hidden names nobody sees in `ls`.
bool is_valid_instance(const std::string &name) { return is_valid_channel(name) && name[0] != '.'; }

Endpoint resolve_endpoint(const std::string &instance, const std::string &runtime_dir) {
    Endpoint ep;
    ep.instance = !instance.empty() ? instance : env("IPCHUB_INSTANCE");
    if (ep.instance.empty()) ep.instance = "default";
    if (!is_valid_instance(ep.instance))
        throw std::invalid_argument("invalid instance name '" + ep.instance + "': use " + channel_rule() +
                                    ", not starting with '.'");
    ep.runtime_base = !runtime_dir.empty() ? runtime_dir : env("IPCHUB_RUNTIME_DIR");
    ep.base_is_default = ep.runtime_base.empty();
    if (ep.base_is_default) {
        std::string xdg = env("XDG_RUNTIME_DIR");
        ep.runtime_base = !xdg.empty() ? xdg + "/ipchub" : "/tmp/ipchub-" + std::to_string(::getuid());
    }
    while (ep.runtime_base.size() > 1 && ep.runtime_base.back() == '/') ep.runtime_base.pop_back();
    ep.instance_dir = ep.runtime_base + "/" + ep.instance;
    return ep;
}

std::string executable_dir() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return ".";
    buf[n] = '\0';
    return parent_dir(buf);
}

std::string library_dir() {
    Dl_info info{};
    if (::dladdr(reinterpret_cast<void *>(&library_dir), &info) && info.dli_fname)
        return parent_dir(tidy(info.dli_fname));
    return executable_dir();
}

std::string default_plugin_dir() {
    std::string fromEnv = env("IPCHUB_PLUGIN_DIR");
    if (!fromEnv.empty()) return fromEnv;
    std::string candidates[] = {executable_dir() + "/../lib/ipchub/plugins", library_dir() + "/ipchub/plugins"};
    for (auto &c : candidates)
        if (exists(c)) return tidy(c);
    return tidy(candidates[0]);
}

std::vector<std::string> split_search_path(const std::string &path) {
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find(':', start);
        if (end == std::string::npos) end = path.size();
        std::string dir = path.substr(start, end - start);
        bool seen = false;
        for (auto &d : out) seen = seen || d == dir;
        if (!dir.empty() && !seen) out.push_back(dir);
        start = end + 1;
    }
    return out;
}

std::string join_search_path(const std::vector<std::string> &dirs) {
    std::string out;
    for (auto &d : dirs) out += (out.empty() ? "" : ":") + d;
    return out;
}

std::vector<std::string> default_config_candidates() {
    std::vector<std::string> out;
    std::string fromEnv = env("IPCHUB_CONFIG");
    if (!fromEnv.empty()) out.push_back(fromEnv);
    for (const std::string &prefix : {executable_dir() + "/..", library_dir() + "/.."}) {
        out.push_back(tidy(prefix) + "/etc/ipchub/plugins.json");
        out.push_back(tidy(prefix) + "/share/ipchub/plugins.json");
    }
    return out;
}

std::string find_default_config() {
    for (auto &c : default_config_candidates())
        if (exists(c)) return c;
    return "";
}

int make_dirs(const std::string &path, unsigned mode) {
    if (path.empty()) return -EINVAL;
    for (size_t pos = 1;; ++pos) {
        pos = path.find('/', pos);
        std::string part = path.substr(0, pos);
        if (::mkdir(part.c_str(), mode) != 0 && errno != EEXIST) return -errno;
        if (pos == std::string::npos) break;
    }
    return 0;
}

} // namespace ipchub
