// Hub half of the pipe transport (hub.cpp). Contracts: sdk/include/ipchub/plugin.h.
#pragma once

#include <ipchub/plugin.h>

namespace ipchub::pipe {

int hub_init(const ipchub_host *host, const ipchub_hub_params *params, void **state, char *err, size_t err_len);
int hub_start(void *state, char *err, size_t err_len);
void hub_stop(void *state);
int64_t hub_send(void *state, void *conn, const struct iovec *iov, size_t iovcnt);
void hub_set_receiving(void *state, void *conn, int enabled);
void hub_close(void *state, void *conn);
void hub_cleanup(void *state);

} // namespace ipchub::pipe
