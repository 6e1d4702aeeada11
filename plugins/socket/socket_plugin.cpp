// UNIX domain stream socket transport: the plugin table.
//
// Hub half (hub.cpp): one listening socket, <runtime_dir>/hub.sock (mode from
// the hub's file_mode, directory 0700), non-blocking accept and I/O on the
// hub's event loop. Client half (client.cpp): a blocking-with-timeout
// connection to that socket. A byte stream: frames may be cut anywhere; the
// hub reassembles them. More in docs/transports/socket.md.
#include "client.hpp"
#include "hub.hpp"
#include "plugin_table.hpp"

namespace ipchub::socket {

IPCHUB_PLUGIN_TABLE(kPlugin,
    .name = "socket",
    .version = "1.0",
    .description = "UNIX domain stream socket in the instance's runtime directory",
    .capabilities = 0, // a byte stream
    .max_frame_size = 0,
    IPCHUB_HUB_HALF_MEMBERS,
    .sweep = sweep,
    IPCHUB_CLIENT_HALF_MEMBERS)

} // namespace ipchub::socket

IPCHUB_PLUGIN_ENTRY(ipchub::socket::kPlugin)
