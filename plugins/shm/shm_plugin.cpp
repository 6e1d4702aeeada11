// The shm transport's plugin table and entry point: shared memory rings, one
// pair per client (docs/transports/shm.md has the whole design). The hub half
// is in hub.*, the client half in client.*.
#include "client.hpp"
#include "hub.hpp"

#include <ipchub/plugin.h>

namespace {

namespace shm = ipchub::shm;

const ipchub_plugin kPlugin = [] {
    ipchub_plugin p{};
    p.abi_version = IPCHUB_ABI_VERSION;
    p.struct_size = sizeof(ipchub_plugin);
    p.name = "shm";
    p.version = "1.0";
    p.description = "shared memory rings (one pair per client), semaphores and an eventfd doorbell";
    p.capabilities = 0; // a byte stream: frames of any size pass in pieces
    p.max_frame_size = 0;
    p.hub_init = shm::hub_init;
    p.hub_start = shm::hub_start;
    p.hub_stop = shm::hub_stop;
    p.hub_send = shm::hub_send;
    p.hub_set_receiving = shm::hub_set_receiving;
    p.hub_close = shm::hub_close;
    p.hub_cleanup = shm::hub_cleanup;
    p.sweep = shm::sweep;
    p.client_connect = shm::client_connect;
    p.client_send = shm::client_send;
    p.client_recv = shm::client_recv;
    p.client_close = shm::client_close;
    p.hub_poll = shm::hub_poll;
    return p;
}();

} // namespace

extern "C" IPCHUB_PLUGIN_EXPORT const ipchub_plugin *ipchub_plugin_entry(uint32_t host_abi_version) {
    return IPCHUB_ABI_MAJOR(host_abi_version) == IPCHUB_ABI_VERSION_MAJOR ? &kPlugin : nullptr;
}
