#include "stream_hub.hpp"

#include <unistd.h>

#include <new>

namespace ipchub::plugin {

void StreamHub::set_host(const ipchub_host *host) {
    host_ = host;
    conns_.set_host(host);
}

bool StreamHub::open(int fd, const std::string &peer) {
    auto *c = new (std::nothrow) StreamConn;
    if (!c) {
        ::close(fd);
        return false;
    }
    c->owner = this;
    c->fd = fd;
    if (!conns_.report_opened(c, peer.c_str())) return false; // the hub refused (shutting down): torn down
    update_watch(c);
    return true;
}

void StreamHub::on_event(void *user, int, uint32_t events) {
    auto *c = static_cast<StreamConn *>(user);
    StreamHub &self = *c->owner;
    const ipchub_host *host = self.host_;
    if (events & IPCHUB_EV_WRITE) {
        c->want_write = false;
        self.update_watch(c);
        host->conn_writable(host, c->host_conn);
    }
    if (!c->receiving) {
        if (events & IPCHUB_EV_HANGUP) { // level-triggered: would fire for ever while paused
            c->hung_up = true;
            host->unwatch_fd(host, c->fd);
        }
        return;
    }
    if (!(events & (IPCHUB_EV_READ | IPCHUB_EV_HANGUP))) return;
    if (auto end = pump_stream(host, c->host_conn, c->fd, self.buffer_.data(), self.buffer_.size(),
                               self.reads_per_wakeup_, &c->receiving))
        self.conns_.lost(c, *end); // the client went away: torn down, then reported once
}

void StreamHub::update_watch(StreamConn *c) {
    if (c->hung_up && !c->receiving) return;
    uint32_t ev = (c->receiving ? IPCHUB_EV_READ : 0u) | (c->want_write ? IPCHUB_EV_WRITE : 0u);
    c->hung_up = false;
    host_->watch_fd(host_, c->fd, ev, on_event, c);
}

int64_t StreamHub::send(void *conn, const struct iovec *iov, size_t iovcnt) {
    auto *c = static_cast<StreamConn *>(conn);
    int64_t n = stream_send(c->fd, kind_, iov, iovcnt);
    if (n >= 0 && size_t(n) < iov_bytes(iov, iovcnt) && !c->want_write) {
        c->want_write = true; // the loop says when there is room: conn_writable
        update_watch(c);
    }
    return n;
}

void StreamHub::set_receiving(void *conn, bool enabled) {
    auto *c = static_cast<StreamConn *>(conn);
    if (c->receiving == enabled) return;
    c->receiving = enabled;
    update_watch(c); // a hang-up seen while paused is reported now, by the read that follows
}

void StreamHub::close(void *conn) { conns_.close(static_cast<StreamConn *>(conn)); }

} // namespace ipchub::plugin
