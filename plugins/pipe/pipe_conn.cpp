// The hub side of one child's frame pipes: a byte stream like the socket
// transport's, on two descriptors (read from in_fd, write to out_fd).
#include "pipe_hub.hpp"

#include <limits.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <new>

namespace ipchub::pipe {

namespace {

constexpr int kReadsPerWakeup = 4; // then let other connections have a turn
// A dead child left at most a pipe's capacity (<= 1 MiB) behind.
constexpr int kLeftoverReads = 8;

void update_watch(PipeConn *c);

void release(PipeConn *c) {
    PipeHub *h = c->hub;
    if (c->resume_timer > 0) h->host->cancel_timer(h->host, c->resume_timer);
    h->host->unwatch_fd(h->host, c->in_fd);
    h->host->unwatch_fd(h->host, c->out_fd);
    ::close(c->in_fd);
    ::close(c->out_fd);
    if (c->child && c->child->conn == c) c->child->conn = nullptr;
    h->conns.erase(c);
    delete c;
}

// The child closed its end, died, or broke the pipe: tell the hub.
void drop(PipeConn *c, int reason) {
    PipeHub *h = c->hub;
    void *host_conn = c->host_conn;
    release(c);
    h->host->conn_closed(h->host, host_conn, reason);
}

// Reads what the child wrote. Returns false when the connection is gone.
bool read_some(PipeConn *c, int max_reads) {
    PipeHub *h = c->hub;
    for (int i = 0; i < max_reads && c->receiving; ++i) {
        ssize_t n = ::read(c->in_fd, h->buffer, sizeof h->buffer);
        if (n > 0) {
            h->host->conn_received(h->host, c->host_conn, h->buffer, size_t(n));
            if (size_t(n) < sizeof h->buffer) break;
            continue;
        }
        if (n == 0) {
            drop(c, 0);
            return false;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN) break;
        drop(c, errno);
        return false;
    }
    // A dead child writes no more; an escaped grandchild holding the write
    // end must not keep the connection open.
    if (c->child_gone && c->receiving) {
        drop(c, 0);
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

PipeConn *open_conn(PipeHub *h, Child *child, int in_fd, int out_fd) {
    auto *c = new (std::nothrow) PipeConn{h, child, in_fd, out_fd};
    if (!c) {
        ::close(in_fd);
        ::close(out_fd);
        return nullptr;
    }
    std::string peer = "child '" + child->spec.name + "' pid " + std::to_string(child->pid);
    c->host_conn = h->host->conn_opened(h->host, c, peer.c_str());
    if (!c->host_conn) {
        ::close(in_fd);
        ::close(out_fd);
        delete c;
        return nullptr;
    }
    h->conns.insert(c);
    update_watch(c);
    return c;
}

int64_t conn_send(PipeConn *c, const struct iovec *iov, size_t iovcnt) {
    ssize_t n = ::writev(c->out_fd, iov, int(iovcnt > IOV_MAX ? IOV_MAX : iovcnt));
    size_t total = 0;
    for (size_t i = 0; i < iovcnt; ++i) total += iov[i].iov_len;
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) return -errno; // EPIPE: the child closed its end
        n = 0;
    }
    if (size_t(n) < total && !c->want_write) {
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

void conn_close(PipeConn *c) { release(c); }

void conn_child_exited(PipeConn *c) {
    c->child = nullptr;
    c->child_gone = true;
    if (c->receiving) read_some(c, kLeftoverReads); // deliver its last words, then close
}

} // namespace ipchub::pipe
