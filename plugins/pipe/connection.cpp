// The hub side of one child's frame pipes: a byte stream like the socket
// transport's, on two descriptors (read from in_fd, write to out_fd).
#include "hub_state.hpp"

#include "stream_io.hpp"

#include <unistd.h>

#include <cerrno>
#include <new>

namespace ipchub::pipe {

namespace {

constexpr int kReadsPerWakeup = 4; // then let other connections have a turn
// A dead child left at most a pipe's capacity (<= 1 MiB) behind.
constexpr int kLeftoverReads = 8;

void update_watch(PipeConn *c);

// Reads what the child wrote. Returns false when the connection is gone
// (the child closed its end, died, or broke the pipe: the hub is told).
bool read_some(PipeConn *c, int max_reads) {
    PipeHub *h = c->hub;
    if (auto end = plugin::pump_stream(h->host, c->host_conn, c->in_fd, h->buffer, sizeof h->buffer, max_reads,
                                       &c->receiving)) {
        h->conns.lost(c, *end);
        return false;
    }
    // A dead child writes no more; an escaped grandchild holding the write
    // end must not keep the connection open.
    if (c->child_gone && c->receiving) {
        h->conns.lost(c, 0);
        return false;
    }
    return true;
}

void on_read(void *user, int, uint32_t events) {
    auto *c = static_cast<PipeConn *>(user);
    PipeHub *h = c->hub;
    if (!c->receiving) {
        if (events & IPCHUB_EV_HANGUP) { // would fire forever while paused
            c->hung_up = true;
            h->host->unwatch_fd(h->host, c->in_fd);
        }
        return;
    }
    read_some(c, kReadsPerWakeup);
}

void on_resume_dead(void *user) {
    auto *c = static_cast<PipeConn *>(user);
    c->resume_timer = 0;
    if (c->receiving) read_some(c, kLeftoverReads);
}

void on_writable(void *user, int, uint32_t) {
    auto *c = static_cast<PipeConn *>(user);
    PipeHub *h = c->hub;
    c->want_write = false;
    update_watch(c);
    h->host->conn_writable(h->host, c->host_conn);
}

// Two descriptors, so two independent watches: reading (unless paused or
// hung up) and writing (only while a send was short).
void update_watch(PipeConn *c) {
    PipeHub *h = c->hub;
    if (c->receiving && !c->hung_up)
        h->host->watch_fd(h->host, c->in_fd, IPCHUB_EV_READ, on_read, c);
    else
        h->host->unwatch_fd(h->host, c->in_fd);
    if (c->want_write)
        h->host->watch_fd(h->host, c->out_fd, IPCHUB_EV_WRITE, on_writable, c);
    else
        h->host->unwatch_fd(h->host, c->out_fd);
}

} // namespace

void PipeConn::teardown(const ipchub_host *host) {
    if (resume_timer > 0) host->cancel_timer(host, resume_timer);
    plugin::close_watched(host, in_fd);
    plugin::close_watched(host, out_fd);
    if (child && child->conn == this) child->conn = nullptr;
}

PipeConn *open_conn(PipeHub *h, Child *child, int in_fd, int out_fd) {
    auto *c = new (std::nothrow) PipeConn{h, child, in_fd, out_fd};
    if (!c) {
        ::close(in_fd);
        ::close(out_fd);
        return nullptr;
    }
    std::string peer = "child '" + child->spec.name + "' pid " + std::to_string(child->pid);
    if (!h->conns.report_opened(c, peer.c_str())) return nullptr; // closed both descriptors
    update_watch(c);
    return c;
}

int64_t conn_send(PipeConn *c, const struct iovec *iov, size_t iovcnt) {
    int64_t n = plugin::stream_send(c->out_fd, plugin::StreamKind::pipe, iov, iovcnt);
    if (n < 0) return n; // -EPIPE: the child closed its end
    if (size_t(n) < plugin::iov_bytes(iov, iovcnt) && !c->want_write) {
        c->want_write = true;
        update_watch(c);
    }
    return n;
}

void conn_set_receiving(PipeConn *c, bool enabled) {
    if (c->receiving == enabled) return;
    c->receiving = enabled;
    if (enabled) c->hung_up = false;
    update_watch(c);
    // Level-triggered watching finds pending data; a dead child's leftovers
    // may come with no event at all (the pipe stays open elsewhere).
    // Not from inside this call (the hub is in the middle of its own
    // bookkeeping): on the next turn of the loop.
    if (enabled && c->child_gone && c->resume_timer == 0)
        c->resume_timer = c->hub->host->add_timer(c->hub->host, 0, 0, on_resume_dead, c);
}

void conn_child_exited(PipeConn *c) {
    c->child = nullptr;
    c->child_gone = true;
    if (c->receiving) read_some(c, kLeftoverReads); // deliver its last words, then close
}

} // namespace ipchub::pipe
