#include "unix_socket.hpp"

#include "errors.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ipchub::plugin {

namespace {
sockaddr_un address_of(const std::string &path) { // the caller checked the length
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    return addr;
}
} // namespace

int check_socket_path(const std::string &path, char *err, size_t err_len) {
    if (path.size() < sizeof(sockaddr_un::sun_path)) return 0;
    return format_error(err, err_len, -ENAMETOOLONG, "socket path %s is longer than %zu bytes; use a shorter --runtime-dir",
                        path.c_str(), sizeof(sockaddr_un::sun_path) - 1);
}

int listen_unix(const std::string &path, int type, uint32_t mode, char *err, size_t err_len) {
    if (int rc = check_socket_path(path, err, err_len); rc < 0) return rc;
    sockaddr_un addr = address_of(path);
    int fd = ::socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return format_error(err, err_len, -errno, "socket: %s", std::strerror(errno));
    ::unlink(path.c_str());
    // umask is process-wide and fchmod before bind does not reach the socket
    // file, so bind then chmod, inside a 0700 directory nobody else can enter.
    if (::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 || ::chmod(path.c_str(), mode) != 0 ||
        ::listen(fd, SOMAXCONN) != 0) {
        int e = errno;
        ::close(fd);
        ::unlink(path.c_str());
        return format_error(err, err_len, -e, "cannot listen on %s: %s", path.c_str(), std::strerror(e));
    }
    return fd;
}

int connect_unix(const std::string &path, int type, const char *instance, char *err, size_t err_len) {
    if (int rc = check_socket_path(path, err, err_len); rc < 0) return rc;
    sockaddr_un addr = address_of(path);
    int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return format_error(err, err_len, -errno, "socket: %s", std::strerror(errno));
    int rc;
    do rc = ::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr);
    while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        int e = errno;
        ::close(fd);
        if (e == ENOENT || e == ECONNREFUSED)
            return format_error(err, err_len, -e, "no hub is running for instance '%s' (%s %s)", instance, path.c_str(),
                                e == ENOENT ? "does not exist" : "refuses connections");
        return format_error(err, err_len, -e, "cannot connect to %s: %s", path.c_str(), std::strerror(e));
    }
    return fd;
}

} // namespace ipchub::plugin
