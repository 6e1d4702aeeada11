// Hub half of the socket transport (hub event-loop thread only; never blocks).
#include "hub.hpp"

#include "config.hpp"
#include "plugin_support.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>
#include <string>

namespace ipchub::socket {

using plugin::format_error;

namespace {

struct Hub {
    const ipchub_host *host = nullptr;
    std::string path;
    uint32_t file_mode = 0600;
    plugin::Listener listener;
    plugin::StreamHub clients; // reading, sending, pausing, teardown: the kit's stream hub half
};

void on_accepted(void *user, int fd) {
    static_cast<Hub *>(user)->clients.open(fd, plugin::peer_credentials(fd).description());
}

} // namespace

int hub_init(const ipchub_host *host, const ipchub_hub_params *params, void **state, char *err, size_t err_len) {
    SocketConfig config;
    std::string why;
    if (!parse_config(params->config_json, config, why)) return format_error(err, err_len, -EINVAL, "%s", why.c_str());
    std::string path = socket_path(params->runtime_dir);
    if (int rc = plugin::check_socket_path(path, err, err_len); rc < 0) return rc;
    auto *h = new (std::nothrow) Hub;
    if (!h) return format_error(err, err_len, -ENOMEM, "out of memory");
    h->host = host;
    h->path = std::move(path);
    h->file_mode = params->file_mode;
    h->clients.set_host(host);
    *state = h;
    return 0;
}

int hub_start(void *state, char *err, size_t err_len) {
    auto *h = static_cast<Hub *>(state);
    return h->listener.listen_unix(h->host, h->path, SOCK_STREAM, h->file_mode, on_accepted, h, "", err, err_len);
}

void hub_stop(void *state) { static_cast<Hub *>(state)->listener.stop(); }

int64_t hub_send(void *state, void *conn, const struct iovec *iov, size_t iovcnt) {
    return static_cast<Hub *>(state)->clients.send(conn, iov, iovcnt);
}

void hub_set_receiving(void *state, void *conn, int enabled) {
    static_cast<Hub *>(state)->clients.set_receiving(conn, enabled != 0);
}

void hub_close(void *state, void *conn) { static_cast<Hub *>(state)->clients.close(conn); }

void hub_cleanup(void *state) {
    auto *h = static_cast<Hub *>(state);
    hub_stop(h);
    h->clients.close_all();
    delete h;
}

int sweep(const ipchub_hub_params *params, char *err, size_t err_len) {
    std::string path = socket_path(params->runtime_dir);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        return format_error(err, err_len, -errno, "cannot remove %s: %s", path.c_str(), std::strerror(errno));
    return 0;
}

} // namespace ipchub::socket
