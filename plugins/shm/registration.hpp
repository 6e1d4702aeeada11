// Bootstrap of an shm connection: how a client finds the hub and gets its
// segment. The hub half listens on <runtime_dir>/shm.sock (AF_UNIX,
// SOCK_SEQPACKET: one datagram per message, reliable, connection-oriented).
//
//   client -> hub   ClientHello  {magic, layout version, pid}
//   hub -> client   HubReply     {magic, layout version, status, spin_us, ring size, text}
//                   + SCM_RIGHTS [segment fd, doorbell eventfd] when status == 0
//
// The segment travels as a descriptor, so its shm name is unlinked before the
// client even connects to it. The socket then stays open for the life of the
// connection as the liveness channel: nothing more is sent on it, and EOF on
// either side means the other process closed the connection or died
// (the kernel closes a killed process's descriptors).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace ipchub::shm {

constexpr const char *kRegistrationSocket = "shm.sock";
constexpr uint32_t kHelloMagic = 0x48534849u; // "IHSH"

struct ClientHello {
    uint32_t magic;
    uint32_t layout_version;
    uint32_t pid;
    uint32_t reserved;
};

struct HubReply {
    uint32_t magic;
    uint32_t layout_version;
    int32_t status; // 0, or a negative errno: then `text` says why
    uint32_t spin_us; // the hub's spin setting (0 = do not spin); hubs before it existed sent 0 here

    uint64_t ring_bytes;
    char text[240];
};

std::string registration_path(const std::string &runtime_dir);

// sendmsg of one datagram with up to two descriptors (MSG_NOSIGNAL).
// Returns 0 or a negative errno.
int send_with_fds(int sock, const void *data, size_t len, const int *fds, int nfds);

// recvmsg of one datagram; received descriptors are close-on-exec. At most
// `max_fds` are kept (the rest closed). Returns the byte count (0 = EOF) or a
// negative errno.
ssize_t recv_with_fds(int sock, void *data, size_t len, int *fds, int max_fds, int *nfds, int flags);

} // namespace ipchub::shm
