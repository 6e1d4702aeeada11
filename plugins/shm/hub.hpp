// The hub half of the shm transport: state and the ABI entry points. Runs
// on the hub's event loop thread only; no threads of its own.
//
// Every client gets one segment with two SPSC rings (client->hub "to_hub",
// hub->client "to_client") and one doorbell (doorbell.hpp) for the hub's side
// of both. Either side signals only when the other announced that it sleeps
// (the ring's *_waiting flags), so a busy stream costs no system call. The
// doorbell is watched edge-triggered where the host allows it (ABI 1.1), so
// the hub never reads it: one system call less per wake-up.
//
// Spinning (hub setting spin_us > 0, docs/benchmarks.md): the hub polls the
// rings through hub_poll and keeps its "waiting" flags down while it does, so
// clients write without ringing.
#pragma once

#include "config.hpp"
#include "connection_set.hpp"
#include "listener.hpp"

#include <ipchub/plugin.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ipchub::shm {

struct Conn;

constexpr size_t kDrainChunk = 256 * 1024;      // hub copies out of a ring in pieces of this size
constexpr size_t kDrainPerWakeup = 1024 * 1024; // then let other connections have a turn

struct Hub {
    const ipchub_host *host = nullptr;
    std::string instance;
    std::string path; // the registration socket (registration.hpp)
    uint32_t file_mode = 0600;
    uint64_t ring_bytes = kDefaultRingBytes;
    uint32_t handshake_timeout_ms = Config{}.handshake_timeout_ms;
    uint32_t max_pending_handshakes = Config{}.max_pending_handshakes;
    uint32_t pending = 0;           // connections in their handshake (Conn::pending)
    uint64_t refused_at_limit = 0;  // closed at max_pending_handshakes since the last log line about it
    uint32_t spin_us = 0;  // the hub's spin setting, passed on to clients
    bool edge = false;     // the host has IPCHUB_EV_EDGE: doorbells are never read
    bool spinning = false; // between hub_poll(0) and hub_poll(1): clients need not ring
    plugin::Listener listener; // the registration socket
    unsigned next_segment = 0;
    plugin::ConnectionSet<Conn> conns; // from accept on; opened() once the host knows them (hub_conn.hpp)
    std::vector<uint8_t> buffer = std::vector<uint8_t>(kDrainChunk);
};

void log(Hub *h, int level, const std::string &text);

int hub_init(const ipchub_host *host, const ipchub_hub_params *params, void **state, char *err, size_t err_len);
int hub_start(void *state, char *err, size_t err_len);
void hub_stop(void *state);
int64_t hub_send(void *state, void *conn, const struct iovec *iov, size_t iovcnt);
int hub_poll(void *state, int sleeping);
void hub_set_receiving(void *state, void *conn, int enabled);
void hub_close(void *state, void *conn);
void hub_cleanup(void *state);
int sweep(const ipchub_hub_params *params, char *err, size_t err_len);

} // namespace ipchub::shm
