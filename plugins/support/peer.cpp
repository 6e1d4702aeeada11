#include "peer.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace ipchub::plugin {

std::string PeerCredentials::description() const {
    if (!known) return {};
    return "pid " + std::to_string(pid) + " uid " + std::to_string(uid);
}

int accept_peer(int listen_fd, PeerCredentials &peer) {
    peer = PeerCredentials{};
    int fd;
    do fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    if (fd < 0) return -errno;
    peer = peer_credentials(fd);
    return fd;
}

PeerCredentials peer_credentials(int fd) {
    PeerCredentials peer;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
        peer.pid = cred.pid;
        peer.uid = cred.uid;
        peer.gid = cred.gid;
        peer.known = true;
    }
    return peer;
}

} // namespace ipchub::plugin
