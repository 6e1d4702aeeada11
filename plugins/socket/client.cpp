// Client half of the socket transport: blocking with timeouts, never forever.
#include "client.hpp"

#include "config.hpp"
#include "hub_identity.hpp"
#include "plugin_support.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <new>

namespace ipchub::socket {

using plugin::Deadline;
using plugin::format_error;
using plugin::StreamKind;

namespace {
struct Client {
    int fd;
};
} // namespace

int client_connect(const ipchub_client_params *params, void **conn, char *err, size_t err_len) {
    int fd = plugin::connect_unix(socket_path(params->runtime_dir), SOCK_STREAM, params->instance, err, err_len);
    if (fd < 0) return fd;
    // Before the first byte: is the listener the hub of our own user?
    if (int rc = plugin::check_hub_peer(fd, params->instance, err, err_len); rc < 0) {
        ::close(fd);
        return rc;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    auto *c = new (std::nothrow) Client{fd};
    if (!c) {
        ::close(fd);
        return format_error(err, err_len, -ENOMEM, "out of memory");
    }
    *conn = c;
    return 0;
}

int64_t client_send(void *conn, const struct iovec *iov, size_t iovcnt, int timeout_ms) {
    return plugin::stream_send_wait(static_cast<Client *>(conn)->fd, StreamKind::socket, iov, iovcnt,
                                    Deadline::after_ms(timeout_ms));
}

int64_t client_recv(void *conn, void *buf, size_t cap, int timeout_ms) {
    return plugin::stream_recv_wait(static_cast<Client *>(conn)->fd, buf, cap, Deadline::after_ms(timeout_ms));
}

void client_close(void *conn) {
    auto *c = static_cast<Client *>(conn);
    ::close(c->fd);
    delete c;
}

} // namespace ipchub::socket
