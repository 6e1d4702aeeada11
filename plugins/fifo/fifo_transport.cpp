// FIFO (named pipe) transport: the plugin table and its entry point.
//
// Clients register through <runtime_dir>/fifo.register and then talk over a
// private pair of FIFOs. The handshake, names, limits and failure modes are
// described in docs/transports/fifo.md; the hub half is in fifo_hub.cpp, the
// client half in fifo_client.cpp.
#include "fifo_halves.hpp"

namespace {

const ipchub_plugin kPlugin = [] {
    ipchub_plugin p{};
    p.abi_version = IPCHUB_ABI_VERSION;
    p.struct_size = sizeof(ipchub_plugin);
    p.name = "fifo";
    p.version = "1.0";
    p.description = "named pipes (FIFOs) in the instance's runtime directory, one pair per client";
    p.capabilities = 0; // a byte stream, like the socket
    p.max_frame_size = 0;
    p.hub_init = ipchub::fifo::hub_init;
    p.hub_start = ipchub::fifo::hub_start;
    p.hub_stop = ipchub::fifo::hub_stop;
    p.hub_send = ipchub::fifo::hub_send;
    p.hub_set_receiving = ipchub::fifo::hub_set_receiving;
    p.hub_close = ipchub::fifo::hub_close;
    p.hub_cleanup = ipchub::fifo::hub_cleanup;
    p.sweep = ipchub::fifo::sweep;
    p.client_connect = ipchub::fifo::client_connect;
    p.client_send = ipchub::fifo::client_send;
    p.client_recv = ipchub::fifo::client_recv;
    p.client_close = ipchub::fifo::client_close;
    return p;
}();

} // namespace

extern "C" IPCHUB_PLUGIN_EXPORT const ipchub_plugin *ipchub_plugin_entry(uint32_t host_abi_version) {
    return IPCHUB_ABI_MAJOR(host_abi_version) == IPCHUB_ABI_VERSION_MAJOR ? &kPlugin : nullptr;
}
