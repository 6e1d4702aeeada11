// A transport that rendezvous on a UNIX socket file in the instance's
// runtime directory (socket, shm): both ends of the rendezvous.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ipchub::plugin {

// 0, or -ENAMETOOLONG with a message when `path` does not fit sockaddr_un
// (hub_init: fail before anything is created; clients: before connecting).
int check_socket_path(const std::string &path, char *err, size_t err_len);

// Hub side. `type` is SOCK_STREAM or SOCK_SEQPACKET. Replaces a dead hub's
// leftover file (the instance lock says nobody else owns it), binds,
// applies `mode`, listens. Returns the non-blocking, close-on-exec
// descriptor, or a negative errno with a message (and no file left behind).
int listen_unix(const std::string &path, int type, uint32_t mode, char *err, size_t err_len);

// Client side. Connects a close-on-exec socket of `type` to `path` (blocking
// mode; the caller sets O_NONBLOCK if it wants). Returns the descriptor or a
// negative errno with a message: -ENOENT / -ECONNREFUSED say "no hub is
// running for instance '<instance>'", as the ABI asks of client_connect.
int connect_unix(const std::string &path, int type, const char *instance, char *err, size_t err_len);

} // namespace ipchub::plugin
