// The socket plugin's "config" object from plugins.json, and the one name
// both halves agree on.
#pragma once

#include <string>

namespace ipchub::socket {

// The transport has no settings yet: the config must be an object with no
// keys but "comment" (an unknown key is an error naming it, not ignored).
struct SocketConfig {};

// Parses `json` (NULL or "" give the defaults). On failure returns false and
// says why in `error`.
bool parse_config(const char *json, SocketConfig &out, std::string &error);

// <runtime_dir>/hub.sock
std::string socket_path(const std::string &runtime_dir);

} // namespace ipchub::socket
