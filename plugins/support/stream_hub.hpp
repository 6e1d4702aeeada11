// The hub half of a transport whose clients each talk over one stream
// descriptor in both directions (a UNIX or TCP stream socket): reading with
// pump_stream, non-blocking sends that ask for a writable event when the
// descriptor is full, pausing, the paused-hang-up rule of plugin.h, and the
// one teardown path of ConnectionSet. Written once here so the socket
// transport and third-party ones (examples/tcp-plugin) only accept clients.
//
// Hub thread only, like everything of a hub half.
#pragma once

#include "connection_set.hpp"
#include "stream_io.hpp"

#include <ipchub/plugin.h>

#include <sys/uio.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ipchub::plugin {

class StreamHub;

// One client; the `void *conn` the hub passes to hub_send, hub_set_receiving
// and hub_close.
struct StreamConn {
    StreamHub *owner = nullptr;
    int fd = -1;
    void *host_conn = nullptr;
    bool receiving = true;
    bool want_write = false;
    bool hung_up = false; // the peer hung up while paused: unwatched until resumed

    void teardown(const ipchub_host *host) { close_watched(host, fd); } // for ConnectionSet
};

class StreamHub {
public:
    explicit StreamHub(StreamKind kind = StreamKind::socket, size_t read_buffer = 256 * 1024, int reads_per_wakeup = 4)
        : kind_(kind), reads_per_wakeup_(reads_per_wakeup), buffer_(read_buffer) {}

    void set_host(const ipchub_host *host);

    // A connected client (non-blocking, close-on-exec descriptor, now owned
    // here): reported to the hub with `peer` and watched. False when the hub
    // refused it (it is closed then).
    bool open(int fd, const std::string &peer);

    // The ABI's hub_send, hub_set_receiving and hub_close for one of ours.
    int64_t send(void *conn, const struct iovec *iov, size_t iovcnt);
    void set_receiving(void *conn, bool enabled);
    void close(void *conn);
    // hub_cleanup: every connection, none reported.
    void close_all() { conns_.close_all(); }

    size_t size() const { return conns_.size(); }

private:
    static void on_event(void *user, int fd, uint32_t events);
    void update_watch(StreamConn *c);

    const ipchub_host *host_ = nullptr;
    StreamKind kind_;
    int reads_per_wakeup_; // then other connections get a turn
    std::vector<unsigned char> buffer_;
    ConnectionSet<StreamConn> conns_;
};

} // namespace ipchub::plugin
