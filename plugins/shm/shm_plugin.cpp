// Shared memory transport: the plugin table. Shared memory rings, one pair
// per client; the hub half is in hub.* (with bootstrap.* and hub_conn.*),
// the client half in client.*. docs/transports/shm.md has the whole design.
#include "client.hpp"
#include "hub.hpp"
#include "plugin_table.hpp"

namespace ipchub::shm {

IPCHUB_PLUGIN_TABLE(kPlugin,
    .name = "shm",
    .version = "1.0",
    .description = "shared memory rings (one pair per client), semaphores and an eventfd doorbell",
    .capabilities = 0, // a byte stream: frames of any size pass in pieces
    .max_frame_size = 0,
    .hub_init = hub_init,
    .hub_start = hub_start,
    .hub_stop = hub_stop,
    .hub_send = hub_send,
    .hub_set_receiving = hub_set_receiving,
    .hub_close = hub_close,
    .hub_cleanup = hub_cleanup,
    .sweep = sweep,
    .client_connect = client_connect,
    .client_send = client_send,
    .client_recv = client_recv,
    .client_close = client_close,
    .hub_poll = hub_poll)

} // namespace ipchub::shm

IPCHUB_PLUGIN_ENTRY(ipchub::shm::kPlugin)
