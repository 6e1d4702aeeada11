// The hub side of registration (registration.hpp): accept a client on the
// registration socket, read its hello, create its segment and doorbell and
// send both; then the host gets the connection (hub_conn.hpp).
#pragma once

#include "hub.hpp"

#include <cstdint>

namespace ipchub::shm {

// A client accepted on the registration socket (Listener::Accepted):
// wait for its hello.
void on_accepted(void *hub, int fd);

// Closes the clients whose handshake has not finished (hub_stop).
void close_unopened(Hub *h);

} // namespace ipchub::shm
