// POSIX message queue transport: the plugin table and entry point.
//
// How it works (details in docs/transports/mqueue.md): the hub owns one
// registration queue, /ipchub.<instance>.mq.register. A client creates its
// own pair of queues (.up: client -> hub, .down: hub -> client), sends one
// registration message naming them, and the hub opens them, unlinks their
// names, watches the client's pid with a pidfd (a queue has no EOF) and
// answers with a welcome that carries its own pid, which the client watches
// the same way. The connection is a byte stream packed into queue messages
// (packer.hpp): many small frames share a message, a big one spans several.
#include "mqueue_halves.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace ipchub::mq {

int open_pidfd(pid_t pid) {
#ifdef SYS_pidfd_open
    return int(::syscall(SYS_pidfd_open, pid, 0));
#else
    (void)pid;
    errno = ENOSYS;
    return -1;
#endif
}

} // namespace ipchub::mq

namespace {

const ipchub_plugin kPlugin = [] {
    namespace mq = ipchub::mq;
    ipchub_plugin p{};
    p.abi_version = IPCHUB_ABI_VERSION;
    p.struct_size = sizeof(ipchub_plugin);
    p.name = "mqueue";
    p.version = "1.0";
    p.description = "POSIX message queues (/ipchub.<instance>.mq.*), the byte stream packed into queue messages";
    // A byte stream, not message boundaries: packing several frames into a
    // message (and taking any prefix of the bytes) is what makes it fast, and
    // the hub's frame reader restores the boundaries anyway.
    p.capabilities = 0;
    p.max_frame_size = 0; // a frame spans as many messages as it needs
    p.hub_init = mq::hub_init;
    p.hub_start = mq::hub_start;
    p.hub_stop = mq::hub_stop;
    p.hub_send = mq::hub_send;
    p.hub_set_receiving = mq::hub_set_receiving;
    p.hub_close = mq::hub_close;
    p.hub_cleanup = mq::hub_cleanup;
    p.sweep = mq::sweep;
    p.client_connect = mq::client_connect;
    p.client_send = mq::client_send;
    p.client_recv = mq::client_recv;
    p.client_close = mq::client_close;
    return p;
}();

} // namespace

extern "C" IPCHUB_PLUGIN_EXPORT const ipchub_plugin *ipchub_plugin_entry(uint32_t host_abi_version) {
    return IPCHUB_ABI_MAJOR(host_abi_version) == IPCHUB_ABI_VERSION_MAJOR ? &kPlugin : nullptr;
}
