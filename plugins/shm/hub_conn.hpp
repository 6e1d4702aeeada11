// One client on the hub side: its registration socket (the handshake, then
// liveness only), its segment and its doorbell. Owned by the hub's
// ConnectionSet from accept on, so every way a client ends (no hello, a
// refused or failed handshake, lost, hub_close, cleanup) goes through the one
// teardown below.
#pragma once

#include "hub.hpp"
#include "segment.hpp"

#include <cstddef>
#include <string>

namespace ipchub::shm {

struct Conn {
    Hub *hub = nullptr;
    int sock = -1;     // registration socket: the hello, then liveness only
    int doorbell = -1; // eventfd: the client rings it when the hub sleeps
    Segment seg;       // mapped once the hello was accepted
    void *host_conn = nullptr; // set once the host knows the client (opened())
    std::string peer;          // for conn_opened and the log
    bool receiving = true;
    bool want_space = false; // hub_send returned short: conn_writable owed
    bool hung_up = false;    // registration socket closed: deliver what was written before, then end
    int hangup_reason = 0;   // for conn_closed once that is delivered
    bool pending = false;    // accepted, hello not yet answered (counts against max_pending_handshakes)
    int64_t handshake_timer = 0; // while pending: closes it after handshake_timeout_ms

    bool opened() const { return host_conn != nullptr; }
    // Unwatches and closes the descriptors and unmaps (the client's mapping,
    // if it lives, keeps the memory; else it is freed now).
    void teardown(const ipchub_host *host);
};

// The handshake is over (answered, or the connection ends): it no longer
// counts as pending and its timer is cancelled. Idempotent.
void end_handshake(Conn *c);

// A client whose segment and doorbell were sent: hand it to the host
// (conn_opened) and watch it. False (and `c` torn down) when the host
// refuses it (shutting down).
bool open_conn(Conn *c);

// Tell a live client the connection is over: it reads what is left in its
// ring, then gets -EPIPE. The memory goes when its mapping goes.
void close_for_client(Conn *c);

// Moves what the client wrote to the hub, up to `budget` bytes (and, once
// it hung up, never more than it had written by then: a client that keeps
// writing after closing its socket cannot keep the hub busy). Returns false
// when the connection was dropped (corrupt ring). Ends by announcing that the
// hub sleeps (so the client rings the doorbell) unless it stopped early
// (`*more`: call again on a later loop turn).
bool drain(Conn *c, size_t budget, bool *more);

// One turn of work for a client's ring: drain at most kDrainPerWakeup bytes;
// a client that hung up is reported lost once what it owed is delivered.
// Returns false when `c` is gone.
bool serve(Conn *c, bool *more);

// Logs why and drops the client (conn_closed(EPROTO)).
void drop_corrupt(Conn *c, const char *which);

// hub_send came back short: has the client made room since? Then tell the
// host (true). Else stay armed: the client rings the doorbell after reading.
bool check_space(Conn *c);

} // namespace ipchub::shm
