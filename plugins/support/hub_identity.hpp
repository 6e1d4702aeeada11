// Is the process a client is about to talk to the hub of its own user? A
// client trusts the hub with every message, so a "hub" that another local
// user started in its place (e.g. in a pre-created /tmp/ipchub-<uid>) must
// be refused. The kernel vouches for the hub's uid: SO_PEERCRED on a UNIX
// socket (socket, shm), the owner of the FIFO or queue the hub created
// (fifo, mqueue). Accepted: the client's effective uid, and any uid listed
// in IPCHUB_TRUST_UID (comma-separated), for a hub run by a service user.
#pragma once

#include <cstddef>
#include <sys/types.h>
#include <vector>

namespace ipchub::plugin {

// The effective uid, then every uid IPCHUB_TRUST_UID lists (never empty).
std::vector<uid_t> trusted_hub_uids();

// True when a hub running as `hub_uid` may be talked to.
bool hub_uid_trusted(uid_t hub_uid);

// 0 when the hub behind the connected UNIX socket `fd` is trusted, else
// -EPERM with a message naming the instance, both uids and IPCHUB_TRUST_UID.
int check_hub_peer(int fd, const char *instance, char *err, size_t err_len);

// The same for a FIFO or message queue descriptor the hub created: its
// owner is the hub's uid. `what` names the object in the message.
int check_hub_owner(int fd, const char *what, const char *instance, char *err, size_t err_len);

} // namespace ipchub::plugin
