// Moving a byte stream of frames over one descriptor: a stream socket, a
// pipe or a FIFO (socket, fifo and pipe transports; a TCP transport too).
//
// Hub half: stream_send never blocks and pump_stream reads what is there.
// Client half: stream_send_wait / stream_recv_wait block up to a deadline.
#pragma once

#include <ipchub/plugin.h>

#include "clock.hpp"

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace ipchub::plugin {

enum class StreamKind {
    socket, // sendmsg(MSG_NOSIGNAL): never raises SIGPIPE
    pipe,   // writev (pipes and FIFOs have no MSG_NOSIGNAL)
};

// Bytes in iov[0..iovcnt).
size_t iov_bytes(const struct iovec *iov, size_t iovcnt);

// Non-blocking send of iov[0..iovcnt) (at most IOV_MAX entries per call) on
// a descriptor in O_NONBLOCK mode (or a socket: MSG_DONTWAIT). Returns the
// bytes taken (0 when the descriptor is full or the call was interrupted),
// or a negative errno: the stream is broken (-EPIPE: the reader is gone).
// On pipes the caller must ignore SIGPIPE (the hub does) or hold a
// SigpipeGuard; stream_send_wait does the latter.
int64_t stream_send(int fd, StreamKind kind, const struct iovec *iov, size_t iovcnt);

// Client side: like stream_send, but waits until `deadline` while nothing
// can be taken. Never raises SIGPIPE. Returns bytes taken (> 0; may be
// short), 0 at the deadline, -EPIPE when the peer is gone (EPIPE or
// ECONNRESET), another negative errno on failure.
int64_t stream_send_wait(int fd, StreamKind kind, const struct iovec *iov, size_t iovcnt, Deadline deadline);

// Client side: reads the next bytes into buf, waiting until `deadline` while
// none are there. Returns bytes read (> 0), 0 at the deadline, -EPIPE at end
// of stream (the peer closed or died: EOF or ECONNRESET), another negative
// errno on failure.
int64_t stream_recv_wait(int fd, void *buf, size_t cap, Deadline deadline);

// Hub side: reads what `fd` has, up to `max_reads` reads into `buffer`, and
// hands each chunk to host->conn_received(host_conn). Stops early once a
// read comes back short (drained), on EAGAIN/EINTR, or as soon as
// `*receiving` turns false (the hub may pause the connection from inside
// conn_received). Returns nothing while the stream is open, or the reason it
// ended: 0 at EOF, a positive errno when a read failed. The caller then
// reports the connection lost (ConnectionSet::lost).
std::optional<int> pump_stream(const ipchub_host *host, void *host_conn, int fd, unsigned char *buffer, size_t size,
                               int max_reads, const bool *receiving);

} // namespace ipchub::plugin
