// The two halves of a transport, as every stock plugin names them: one set
// of declarations (hub.hpp, client.hpp) and one set of table members
// (<name>_plugin.cpp), so the ABI's signatures are written once.
// Contracts: sdk/include/ipchub/plugin.h.
#pragma once

#include <ipchub/plugin.h>

// Declares hub_init ... hub_cleanup in the current namespace (hub.hpp).
#define IPCHUB_DECLARE_HUB_HALF()                                                                                   \
    int hub_init(const ipchub_host *host, const ipchub_hub_params *params, void **state, char *err, size_t err_len); \
    int hub_start(void *state, char *err, size_t err_len);                                                           \
    void hub_stop(void *state);                                                                                      \
    int64_t hub_send(void *state, void *conn, const struct iovec *iov, size_t iovcnt);                              \
    void hub_set_receiving(void *state, void *conn, int enabled);                                                    \
    void hub_close(void *state, void *conn);                                                                         \
    void hub_cleanup(void *state)

// Declares sweep (for transports that leave named objects behind).
#define IPCHUB_DECLARE_SWEEP() int sweep(const ipchub_hub_params *params, char *err, size_t err_len)

// Declares client_connect ... client_close in the current namespace (client.hpp).
#define IPCHUB_DECLARE_CLIENT_HALF()                                                                \
    int client_connect(const ipchub_client_params *params, void **conn, char *err, size_t err_len); \
    int64_t client_send(void *conn, const struct iovec *iov, size_t iovcnt, int timeout_ms);       \
    int64_t client_recv(void *conn, void *buf, size_t cap, int timeout_ms);                        \
    void client_close(void *conn)

// Designated initializers for IPCHUB_PLUGIN_TABLE, in the order of plugin.h:
// ..., IPCHUB_HUB_HALF_MEMBERS, .sweep = sweep (or nullptr), IPCHUB_CLIENT_HALF_MEMBERS
#define IPCHUB_HUB_HALF_MEMBERS                                                                       \
    .hub_init = hub_init, .hub_start = hub_start, .hub_stop = hub_stop, .hub_send = hub_send,         \
    .hub_set_receiving = hub_set_receiving, .hub_close = hub_close, .hub_cleanup = hub_cleanup
#define IPCHUB_CLIENT_HALF_MEMBERS                                                                    \
    .client_connect = client_connect, .client_send = client_send, .client_recv = client_recv,         \
    .client_close = client_close
