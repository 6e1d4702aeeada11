// POSIX message queue transport: the plugin table.
//
// How it works (details in docs/transports/mqueue.md): the hub owns one
// registration queue, /ipchub.<instance>.mq.register. A client creates its
// own pair of queues (.up: client -> hub, .down: hub -> client), sends one
// registration message naming them, and the hub opens them, unlinks their
// names, watches the client's pid with a pidfd (a queue has no EOF) and
// answers with a welcome that carries its own pid, which the client watches
// the same way. The connection is a byte stream packed into queue messages
// (packer.hpp): many small frames share a message, a big one spans several.
// Hub half: hub.cpp; client half: client.cpp.
#include "client.hpp"
#include "hub.hpp"
#include "plugin_table.hpp"

namespace ipchub::mqueue {

IPCHUB_PLUGIN_TABLE(kPlugin,
    .name = "mqueue",
    .version = "1.0",
    .description = "POSIX message queues (/ipchub.<instance>.mq.*), the byte stream packed into queue messages",
    // A byte stream, not message boundaries: packing several frames into a
    // message (and taking any prefix of the bytes) is what makes it fast, and
    // the hub's frame reader restores the boundaries anyway.
    .capabilities = 0,
    .max_frame_size = 0, // a frame spans as many messages as it needs
    IPCHUB_HUB_HALF_MEMBERS,
    .sweep = sweep,
    IPCHUB_CLIENT_HALF_MEMBERS)

} // namespace ipchub::mqueue

IPCHUB_PLUGIN_ENTRY(ipchub::mqueue::kPlugin)
