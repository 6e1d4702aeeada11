// The hub side of registration (registration.hpp): accept a client on the
// registration socket, read its hello, create its segment and doorbell and
// send both; then the host gets the connection (hub_conn.hpp).
#pragma once

#include "hub.hpp"

#include <cstdint>

namespace ipchub::shm {

// Watch callback of the listening socket: accepts every waiting client.
void on_accept(void *hub, int fd, uint32_t events);

// Closes the clients whose handshake has not finished (hub_stop).
void close_unopened(Hub *h);

} // namespace ipchub::shm
