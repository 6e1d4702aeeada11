#include "hub_identity.hpp"

#include "errors.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace ipchub::plugin {

namespace {

int refuse(uid_t hub_uid, const char *what, const char *instance, char *err, size_t err_len) {
    return format_error(err, err_len, -EPERM,
                        "refusing the hub of instance '%s': %s belongs to uid %u, not to this user (uid %u); "
                        "another user may be impersonating the hub. Set IPCHUB_TRUST_UID=%u to trust it",
                        instance, what, unsigned(hub_uid), unsigned(::geteuid()), unsigned(hub_uid));
}

} // namespace

std::vector<uid_t> trusted_hub_uids() {
    std::vector<uid_t> uids{::geteuid()};
    const char *list = std::getenv("IPCHUB_TRUST_UID");
    for (const char *p = list; p && *p;) {
        char *end = nullptr;
        errno = 0;
        unsigned long uid = std::strtoul(p, &end, 10);
        if (end == p || errno != 0 || uid > 0xfffffffful) break; // not a uid: trust nothing more
        if (uid != uids.front()) uids.push_back(uid_t(uid));
        if (*end != ',') break;
        p = end + 1;
    }
    return uids;
}

bool hub_uid_trusted(uid_t hub_uid) {
    for (uid_t uid : trusted_hub_uids())
        if (uid == hub_uid) return true;
    return false;
}

int check_hub_peer(int fd, const char *instance, char *err, size_t err_len) {
    struct ucred cred {};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return format_error(err, err_len, -errno, "cannot learn who serves instance '%s': %s", instance,
                            std::strerror(errno));
    return hub_uid_trusted(cred.uid) ? 0 : refuse(cred.uid, "the process listening on its socket", instance, err, err_len);
}

int check_hub_owner(int fd, const char *what, const char *instance, char *err, size_t err_len) {
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        return format_error(err, err_len, -errno, "cannot learn who owns %s: %s", what, std::strerror(errno));
    return hub_uid_trusted(st.st_uid) ? 0 : refuse(st.st_uid, what, instance, err, err_len);
}

} // namespace ipchub::plugin
