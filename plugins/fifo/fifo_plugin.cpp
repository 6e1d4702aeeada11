// FIFO (named pipe) transport: the plugin table.
//
// Clients register through <runtime_dir>/fifo.register and then talk over a
// private pair of FIFOs. The handshake, names, limits and failure modes are
// described in docs/transports/fifo.md; the hub half is in hub.cpp, the
// client half in client.cpp, the record and names both share in
// registration.hpp.
#include "client.hpp"
#include "hub.hpp"
#include "plugin_table.hpp"

namespace ipchub::fifo {

IPCHUB_PLUGIN_TABLE(kPlugin,
    .name = "fifo",
    .version = "1.0",
    .description = "named pipes (FIFOs) in the instance's runtime directory, one pair per client",
    .capabilities = 0, // a byte stream, like the socket
    .max_frame_size = 0,
    IPCHUB_HUB_HALF_MEMBERS,
    .sweep = sweep,
    IPCHUB_CLIENT_HALF_MEMBERS)

} // namespace ipchub::fifo

IPCHUB_PLUGIN_ENTRY(ipchub::fifo::kPlugin)
