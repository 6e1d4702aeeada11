#include "hub.hpp"

#include "bootstrap.hpp"
#include "doorbell.hpp"
#include "hub_conn.hpp"
#include "errors.hpp"
#include "registration.hpp"
#include "stream_io.hpp"
#include "stream_write.hpp"
#include "unix_socket.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <utility>

namespace ipchub::shm {

using ipchub::plugin::format_error;

void log(Hub *h, int level, const std::string &text) { h->host->log(h->host, level, text.c_str()); }

int hub_init(const ipchub_host *host, const ipchub_hub_params *params, void **state, char *err, size_t err_len) {
    Config config;
    std::string why;
    if (!parse_config(params->config_json, config, why)) return format_error(err, err_len, -EINVAL, "%s", why.c_str());
    std::string path = registration_path(params->runtime_dir);
    if (int rc = plugin::check_socket_path(path, err, err_len); rc < 0) return rc;
    auto *h = new (std::nothrow) Hub;
    if (!h) return format_error(err, err_len, -ENOMEM, "out of memory");
    h->host = host;
    h->instance = params->instance;
    h->path = std::move(path);
    h->file_mode = params->file_mode;
    h->ring_bytes = config.ring_bytes;
    h->handshake_timeout_ms = config.handshake_timeout_ms;
    h->max_pending_handshakes = config.max_pending_handshakes;
    if (IPCHUB_HAS_MEMBER(params, ipchub_hub_params, spin_us)) h->spin_us = params->spin_us;
    h->edge = IPCHUB_ABI_MINOR(host->abi_version) >= 1;
    h->conns.set_host(host);
    *state = h;
    return 0;
}

int hub_start(void *state, char *err, size_t err_len) {
    auto *h = static_cast<Hub *>(state);
    return h->listener.listen_unix(h->host, h->path, SOCK_SEQPACKET, h->file_mode, on_accepted, h,
                             ", rings of " + std::to_string(h->ring_bytes) + " bytes", err, err_len);
}

// No threads of our own to stop: everything runs on the hub's loop.
void hub_stop(void *state) {
    auto *h = static_cast<Hub *>(state);
    close_unopened(h);
    h->listener.stop();
}

int64_t hub_send(void *, void *conn, const struct iovec *iov, size_t iovcnt) {
    auto *c = static_cast<Conn *>(conn);
    // The client is gone (its socket hung up): nobody will ever read this
    // ring, so a backlog waiting for room would wait for ever. Say so; the
    // hub then closes the connection.
    if (c->hung_up) return -EPIPE;
    Ring &ring = c->seg.to_client;
    size_t total = plugin::iov_bytes(iov, iovcnt);
    auto wake = [&] { sem_post(&ring.header()->items); };
    int64_t taken = write_available(ring, iov, iovcnt, total, 0, wake);
    // Bounded: each turn either moves at least one byte or stops (a head that
    // moved backwards or past our tail is corruption, which sticks).
    while (taken >= 0 && size_t(taken) < total) {
        // Full: announce that we wait for space, then look once more (so a
        // client that read in between cannot be missed).
        if (ring.producer_prepare_sleep(kRecordHeader + 1)) {
            c->want_space = true; // the client rings the doorbell after it read
            break;
        }
        taken = write_available(ring, iov, iovcnt, total, size_t(taken), wake);
    }
    if (taken == -EPROTO)
        log(c->hub, IPCHUB_LOG_WARN,
            "closing client " + c->peer + ": it corrupted its shared ring from the hub (its read index moved "
            "backwards or past what the hub wrote)");
    return taken;
}

// The hub spins: move what is in the rings without being rung. While it
// spins the rings' "hub sleeps" flags stay down, so clients write without a
// system call; before it sleeps they go up again (and a ring that filled in
// between counts as work, so the hub looks once more instead of sleeping).
int hub_poll(void *state, int sleeping) {
    auto *h = static_cast<Hub *>(state);
    if (!sleeping && !h->spinning) {
        h->spinning = true;
        for (Conn *c : h->conns)
            if (c->opened()) c->seg.to_hub.consumer_cancel_sleep();
    }
    if (sleeping) h->spinning = false;
    int handled = 0;
    // serve() may free the connection it serves (a corrupt ring, a hung-up
    // client done), nothing else: so step past it first.
    for (auto it = h->conns.begin(); it != h->conns.end();) {
        Conn *c = *it++;
        if (!c->opened()) continue; // still in its handshake
        if (c->want_space && check_space(c)) ++handled;
        if (!c->receiving) continue; // resuming rings the doorbell
        if (!c->seg.to_hub.empty()) { // a corrupt ring is "not empty": serve drops it
            bool more = false;
            if (!serve(c, &more)) continue;
            ++handled;
            if (more || !sleeping) continue;
        }
        if (sleeping && !c->seg.to_hub.consumer_prepare_sleep()) ++handled; // written meanwhile
    }
    return handled;
}

void hub_set_receiving(void *, void *conn, int enabled) {
    auto *c = static_cast<Conn *>(conn);
    if (c->receiving == (enabled != 0)) return;
    c->receiving = enabled != 0;
    if (c->receiving) ring_doorbell(c->doorbell); // drain what piled up, on the loop, not from inside this call
}

void hub_close(void *state, void *conn) {
    auto *c = static_cast<Conn *>(conn);
    close_for_client(c);
    static_cast<Hub *>(state)->conns.close(c);
}

void hub_cleanup(void *state) {
    auto *h = static_cast<Hub *>(state);
    hub_stop(h); // closes the clients still in their handshake
    for (Conn *c : h->conns) close_for_client(c);
    h->conns.close_all();
    // Segments were unlinked when created; a hub killed in that instant is
    // what sweep is for.
    delete h;
}

int sweep(const ipchub_hub_params *params, char *err, size_t err_len) {
    sweep_segments(params->instance);
    std::string path = registration_path(params->runtime_dir);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return format_error(err, err_len, -errno, "cannot remove %s: %s", path.c_str(), std::strerror(errno));
    return 0;
}

} // namespace ipchub::shm
