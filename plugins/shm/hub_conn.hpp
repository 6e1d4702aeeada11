// One registered client on the hub side: its segment, its registration
// socket (kept for liveness only) and its doorbell, and the one way each of
// them is released.
#pragma once

#include "hub.hpp"
#include "segment.hpp"

#include <cstddef>

namespace ipchub::shm {

struct Conn {
    Hub *hub = nullptr;
    int sock = -1;     // registration socket: liveness only
    int doorbell = -1; // eventfd: the client rings it when the hub sleeps
    Segment seg;
    void *host_conn = nullptr;
    bool receiving = true;
    bool want_space = false; // hub_send returned short: conn_writable owed
    bool hung_up = false;    // client gone while paused: close once drained

    explicit Conn(Hub *h) : hub(h) {}
    Conn(const Conn &) = delete;
    Conn &operator=(const Conn &) = delete;
    // Closes the descriptors it holds and unmaps (the client's mapping, if
    // it lives, keeps the memory; else it is freed now). Nothing watched.
    ~Conn();
};

// Hands a connection whose client has its segment and doorbell to the host
// (conn_opened) and watches it. False (and `c` freed) when the host refuses
// it (shutting down).
bool open_conn(Conn *c, const std::string &peer);

// Unwatches and frees a registered connection; the host is not told.
void free_conn(Conn *c);

// The client went away (or broke the ring): free it, report it to the host.
void drop(Conn *c, int reason);

// Tell a live client the connection is over: it reads what is left in its
// ring, then gets -EPIPE. The memory goes when its mapping goes.
void close_for_client(Conn *c);

// Moves what the client wrote to the hub, up to `budget` bytes. Returns false
// when the connection was dropped (corrupt ring). Ends by announcing that the
// hub sleeps (so the client rings the doorbell) unless it stopped early.
bool drain(Conn *c, size_t budget, bool *more);

// hub_send came back short: has the client made room since? Then tell the
// host (true). Else stay armed: the client rings the doorbell after reading.
bool check_space(Conn *c);

} // namespace ipchub::shm
