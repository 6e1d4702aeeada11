// The client half: in a child the hub started, the connection is the pair
// of pipes it inherited (IPCHUB_PIPE_FDS); there is nothing to connect to.
#pragma once

#include <ipchub/plugin.h>

namespace ipchub::pipe {

int client_connect(const ipchub_client_params *params, void **conn, char *err, size_t err_len);
int64_t client_send(void *conn, const struct iovec *iov, size_t iovcnt, int timeout_ms);
int64_t client_recv(void *conn, void *buf, size_t cap, int timeout_ms);
void client_close(void *conn);

} // namespace ipchub::pipe
