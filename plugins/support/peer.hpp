// Accepting a client on a listening UNIX socket and learning who it is.
#pragma once

#include <sys/types.h>

#include <string>

namespace ipchub::plugin {

// The client process behind a UNIX socket, as the kernel vouches for it
// (SO_PEERCRED, taken at connect time: the client cannot forge it).
struct PeerCredentials {
    pid_t pid = 0;
    uid_t uid = uid_t(-1);
    gid_t gid = gid_t(-1);
    bool known = false; // false when the kernel would not say

    // "pid N uid U" for conn_opened and the log; "" when unknown.
    std::string description() const;
};

// Who is connected on the UNIX socket `fd` (SO_PEERCRED); known = false
// when the kernel would not say.
PeerCredentials peer_credentials(int fd);

// accept4() one pending connection, non-blocking and close-on-exec, and
// fills `peer`. Returns the descriptor, or a negative errno (-EAGAIN: none
// pending; -EMFILE/-ENFILE: out of descriptors, the caller may log it).
int accept_peer(int listen_fd, PeerCredentials &peer);

} // namespace ipchub::plugin
