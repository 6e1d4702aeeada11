// The client half of the shm transport: blocking calls in the client's own
// threads (one sender and one receiver may use a connection at once).
//
// The client sleeps on the rings' process-shared semaphores (items of
// to_client, spaces of to_hub) and rings the hub's doorbell (doorbell.hpp)
// when the hub announced that it sleeps. Clients learn the hub's spin_us in
// the registration reply and poll their rings as long before they sleep.
#pragma once

#include <ipchub/plugin.h>

#include <cstddef>
#include <cstdint>

namespace ipchub::shm {

int client_connect(const ipchub_client_params *params, void **conn, char *err, size_t err_len);
int64_t client_send(void *conn, const struct iovec *iov, size_t iovcnt, int timeout_ms);
int64_t client_recv(void *conn, void *buf, size_t cap, int timeout_ms);
void client_close(void *conn);

} // namespace ipchub::shm
