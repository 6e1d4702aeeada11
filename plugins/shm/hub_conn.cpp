#include "hub_conn.hpp"

#include "doorbell.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace ipchub::shm {

namespace {

void on_doorbell(void *user, int fd, uint32_t) {
    auto *c = static_cast<Conn *>(user);
    if (!c->hub->edge) reset_doorbell(fd);
    if (c->want_space) check_space(c);
    if (!c->receiving) return;
    bool more = false;
    if (serve(c, &more) && more) ring_doorbell(c->doorbell); // come back on the next loop turn
}

// EOF (or error) on the registration socket: the client closed or died.
void on_sock(void *user, int fd, uint32_t) {
    auto *c = static_cast<Conn *>(user);
    Hub *h = c->hub;
    char byte;
    ssize_t n = ::recv(fd, &byte, 1, MSG_DONTWAIT);
    if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR))) return; // nothing is sent after hello: ignore
    // Orderly when client_close said so; else the client died (kill -9, crash).
    c->hangup_reason = n < 0 ? errno : c->seg.header->client_closed.load() ? 0 : ECONNRESET;
    h->host->unwatch_fd(h->host, c->sock);
    // Whatever the client wrote before it went is still delivered, and no
    // more: what is in the ring now (it cannot have written after dying,
    // and what a live one writes after closing its socket is not owed).
    Ring &ring = c->seg.to_hub;
    int64_t owed = ring.used();
    if (owed < 0) return drop_corrupt(c, "to the hub");
    ring.end_at(ring.read_position() + uint64_t(owed));
    c->hung_up = true;
    if (!c->receiving) return; // paused: hub_set_receiving(1) rings the doorbell, on_doorbell finishes
    bool more = false;
    if (serve(c, &more) && more) ring_doorbell(c->doorbell);
}

} // namespace

void Conn::teardown(const ipchub_host *host) {
    end_handshake(this);
    plugin::close_watched(host, sock);
    plugin::close_watched(host, doorbell);
    seg.unmap();
}

void end_handshake(Conn *c) {
    if (!c->pending) return;
    c->pending = false;
    --c->hub->pending;
    if (c->handshake_timer > 0) c->hub->host->cancel_timer(c->hub->host, c->handshake_timer);
    c->handshake_timer = 0;
}

bool open_conn(Conn *c) {
    Hub *h = c->hub;
    if (!h->conns.report_opened(c, c->peer.c_str())) return false; // shutting down
    h->host->watch_fd(h->host, c->sock, IPCHUB_EV_READ, on_sock, c);
    h->host->watch_fd(h->host, c->doorbell, IPCHUB_EV_READ | (h->edge ? IPCHUB_EV_EDGE : 0u), on_doorbell, c);
    return true;
}

void close_for_client(Conn *c) {
    SegmentHeader *sh = c->seg.header;
    sh->hub_closed.store(1);
    sem_post(&sh->to_client.items);
    sem_post(&sh->to_hub.spaces);
}

void drop_corrupt(Conn *c, const char *which) {
    log(c->hub, IPCHUB_LOG_WARN,
        "closing client " + c->peer + ": it corrupted its shared ring " + which +
            " (an index moved backwards or past the ring, or a record length is impossible)");
    c->hub->conns.lost(c, EPROTO);
}

bool drain(Conn *c, size_t budget, bool *more) {
    Hub *h = c->hub;
    Ring &ring = c->seg.to_hub;
    *more = false;
    // A look that found the ring empty and then not empty again costs one
    // more turn at most this often per call: with the ring's checks a second
    // look always reads, but the loop's end must not depend on that.
    int relooks = 4;
    while (c->receiving) {
        if (budget == 0 || relooks == 0) {
            *more = true;
            return true;
        }
        int64_t n = ring.read_stream(h->buffer.data(), h->buffer.size() < budget ? h->buffer.size() : budget);
        if (n < 0) {
            drop_corrupt(c, "to the hub");
            return false;
        }
        if (n == 0) {
            if (c->hung_up || h->spinning) return true;     // all it owed is delivered; hub_poll looks again soon
            if (ring.consumer_prepare_sleep()) return true; // empty; the client rings when it writes
            --relooks;
            continue; // data arrived meanwhile
        }
        budget -= size_t(n);
        if (ring.producer_needs_wake()) sem_post(&ring.header()->spaces);
        h->host->conn_received(h->host, c->host_conn, h->buffer.data(), size_t(n));
    }
    return true;
}

bool serve(Conn *c, bool *more) {
    if (!drain(c, kDrainPerWakeup, more)) return false;
    if (c->hung_up && c->receiving && c->seg.to_hub.used() == 0) { // all it owed is delivered
        *more = false;
        c->hub->conns.lost(c, c->hangup_reason);
        return false;
    }
    return true;
}

bool check_space(Conn *c) {
    Hub *h = c->hub;
    int64_t room = c->seg.to_client.free_space();
    if (room < 0 || size_t(room) > kRecordHeader) {
        c->want_space = false;
        c->seg.to_client.producer_cancel_sleep();
        h->host->conn_writable(h->host, c->host_conn);
        return true;
    }
    if (!c->seg.to_client.producer_prepare_sleep(kRecordHeader + 1)) {
        c->want_space = false; // freed between the two looks
        h->host->conn_writable(h->host, c->host_conn);
        return true;
    }
    return false;
}

} // namespace ipchub::shm
