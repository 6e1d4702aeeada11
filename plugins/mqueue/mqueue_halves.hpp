// The two halves of the mqueue transport (hub: mqueue_hub.cpp, client:
// mqueue_client.cpp), put into one plugin table by mqueue_transport.cpp.
#pragma once

#include <ipchub/plugin.h>

#include <sys/types.h>

namespace ipchub::mq {

int hub_init(const ipchub_host *host, const ipchub_hub_params *params, void **state, char *err, size_t err_len);
int hub_start(void *state, char *err, size_t err_len);
void hub_stop(void *state);
int64_t hub_send(void *state, void *conn, const struct iovec *iov, size_t iovcnt);
void hub_set_receiving(void *state, void *conn, int enabled);
void hub_close(void *state, void *conn);
void hub_cleanup(void *state);
int sweep(const ipchub_hub_params *params, char *err, size_t err_len);

int client_connect(const ipchub_client_params *params, void **conn, char *err, size_t err_len);
int64_t client_send(void *conn, const struct iovec *iov, size_t iovcnt, int timeout_ms);
int64_t client_recv(void *conn, void *buf, size_t cap, int timeout_ms);
void client_close(void *conn);

// pidfd_open(2): a descriptor that becomes readable when process `pid` exits.
// Returns -1 with errno set (ESRCH: already gone; ENOSYS: kernel < 5.3).
int open_pidfd(pid_t pid);

} // namespace ipchub::mq
