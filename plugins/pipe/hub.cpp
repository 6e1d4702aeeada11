// Hub half of the pipe transport: the hub_* entry points, glue over the
// supervisor (processes, supervisor.cpp) and the connections (the frame
// pipes, connection.cpp).
#include "hub.hpp"

#include "hub_state.hpp"
#include "plugin_support.hpp"
#include "spawn.hpp"

#include <cerrno>
#include <new>

namespace ipchub::pipe {

using plugin::format_error;

int hub_init(const ipchub_host *host, const ipchub_hub_params *params, void **state, char *err, size_t err_len) {
    PipeConfig config;
    std::string error;
    if (!parse_pipe_config(params->config_json ? params->config_json : "{}", config, error))
        return format_error(err, err_len, -EINVAL, "invalid config: %s", error.c_str());
    auto *h = new (std::nothrow) PipeHub;
    if (!h) return format_error(err, err_len, -ENOMEM, "out of memory");
    h->host = host;
    h->conns.set_host(host);
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

void hub_close(void *state, void *conn) { static_cast<PipeHub *>(state)->conns.close(static_cast<PipeConn *>(conn)); }

void hub_cleanup(void *state) {
    auto *h = static_cast<PipeHub *>(state);
    wait_for_children(h); // bounded by stop_timeout_ms (+ a short SIGKILL grace)
    h->conns.close_all(); // the hub closed them all; defensive
    delete h;
}

} // namespace ipchub::pipe
