// Anonymous-pipe transport: the hub starts and supervises child processes
// (plugins.json "children" and myipchub --spawn) and talks to each over a
// pair of pipes it inherited. No rendezvous point, nothing named to clean up.
//
//   child_spec.*    the plugin's config: children, restart policy, timeouts
//   backoff.hpp     the restart delay schedule
//   spawn.*         fork/exec of one child with the descriptor contract
//   supervisor.cpp  pidfd watching, reaping, restarts, the stop sequence
//   pipe_conn.cpp   the hub side of a child's frame pipes (a byte stream)
//   pipe_client.*   the client half, in the child
//   this file       the ABI table and the hub_* glue
#include <ipchub/plugin.h>

#include "pipe_client.hpp"
#include "pipe_hub.hpp"
#include "plugin_support.hpp"
#include "spawn.hpp"

#include <unistd.h>

#include <cerrno>
#include <new>

namespace {

using namespace ipchub::pipe;
using ipchub::plugin::format_error;

int hub_init(const ipchub_host *host, const ipchub_hub_params *params, void **state, char *err, size_t err_len) {
    PipeConfig config;
    std::string error;
    if (!parse_pipe_config(params->config_json ? params->config_json : "{}", config, error))
        return format_error(err, err_len, -EINVAL, "invalid config: %s", error.c_str());
    auto *h = new (std::nothrow) PipeHub;
    if (!h) return format_error(err, err_len, -ENOMEM, "out of memory");
    h->host = host;
    h->config = std::move(config);
    h->bin_dir = own_bin_dir();
    for (auto &spec : h->config.children) h->children.push_back(std::make_unique<Child>(h, spec));
    *state = h;
    return 0;
}

int hub_start(void *state, char *, size_t) {
    auto *h = static_cast<PipeHub *>(state);
    // A child that cannot be started is logged and, per its policy, retried:
    // one bad command line must not keep the hub from serving the others.
    start_children(h);
    return 0;
}

void hub_stop(void *state) { stop_children(static_cast<PipeHub *>(state)); }

int64_t hub_send(void *, void *conn, const struct iovec *iov, size_t iovcnt) {
    return conn_send(static_cast<PipeConn *>(conn), iov, iovcnt);
}

void hub_set_receiving(void *, void *conn, int enabled) { conn_set_receiving(static_cast<PipeConn *>(conn), enabled != 0); }

void hub_close(void *, void *conn) { conn_close(static_cast<PipeConn *>(conn)); }

void hub_cleanup(void *state) {
    auto *h = static_cast<PipeHub *>(state);
    wait_for_children(h); // bounded by stop_timeout_ms (+ a short SIGKILL grace)
    while (!h->conns.empty()) conn_close(*h->conns.begin()); // the hub closed them all; defensive
    delete h;
}

const ipchub_plugin kPlugin = [] {
    ipchub_plugin p{};
    p.abi_version = IPCHUB_ABI_VERSION;
    p.struct_size = sizeof(ipchub_plugin);
    p.name = "pipe";
    p.version = "1.0";
    p.description = "anonymous pipes to child processes the hub starts and supervises";
    p.capabilities = IPCHUB_CAP_SPAWNED_CHILDREN;
    p.max_frame_size = 0;
    p.hub_init = hub_init;
    p.hub_start = hub_start;
    p.hub_stop = hub_stop;
    p.hub_send = hub_send;
    p.hub_set_receiving = hub_set_receiving;
    p.hub_close = hub_close;
    p.hub_cleanup = hub_cleanup;
    p.sweep = nullptr; // nothing named: a dead hub's children got SIGTERM (PR_SET_PDEATHSIG)
    p.client_connect = client_connect;
    p.client_send = client_send;
    p.client_recv = client_recv;
    p.client_close = client_close;
    return p;
}();

} // namespace

extern "C" IPCHUB_PLUGIN_EXPORT const ipchub_plugin *ipchub_plugin_entry(uint32_t host_abi_version) {
    return IPCHUB_ABI_MAJOR(host_abi_version) == IPCHUB_ABI_VERSION_MAJOR ? &kPlugin : nullptr;
}
