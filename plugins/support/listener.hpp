// The hub half's listening socket (socket and shm on a UNIX socket file, a
// TCP transport on a port): watch it on the hub's loop, accept every waiting
// client and hand it to the transport.
//
// Out of file descriptors (EMFILE/ENFILE) a pending client can be neither
// accepted nor left waiting: the listener stays readable, and a loop that
// just returns is called again at once, for ever (100 % CPU and a log line
// each time). So the listener keeps one reserve descriptor: it gives it up
// to accept the client, closes that client at once (it sees the connection
// end and fails instead of hanging) and takes the reserve back. Should the
// reserve be lost too, the listener stops watching for a moment. Either way
// the warning is rate-limited (repeated_warning.hpp).
//
// Hub thread only, like everything of a hub half.
#pragma once

#include "repeated_warning.hpp"

#include <ipchub/plugin.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace ipchub::plugin {

class Listener {
public:
    // A client was accepted: the transport owns `fd` (non-blocking,
    // close-on-exec) from now on; peer_credentials(fd) (peer.hpp) says who
    // it is on a UNIX socket.
    using Accepted = void (*)(void *user, int fd);

    Listener() = default;
    Listener(const Listener &) = delete;
    Listener &operator=(const Listener &) = delete;
    ~Listener() { stop(); }

    // hub_start of a UNIX socket transport: listen_unix(path, type, mode)
    // (unix_socket.hpp), then adopt it, logging "listening on <path><detail>"
    // (debug). stop() removes the socket file. 0, or a negative errno with a
    // message (nothing left behind).
    int listen_unix(const ipchub_host *host, const std::string &path, int type, uint32_t mode, Accepted on_accepted,
                    void *user, const std::string &detail, char *err, size_t err_len);

    // Any other listening socket (non-blocking, e.g. TCP): the listener owns
    // `listen_fd` from now on (closed on failure too) and watches it.
    int adopt(const ipchub_host *host, int listen_fd, Accepted on_accepted, void *user, char *err, size_t err_len);

    // hub_stop: stop accepting, close, remove the socket file if any. Idempotent.
    void stop();

    bool listening() const { return fd_ >= 0; }
    // Clients turned away for lack of descriptors, since start.
    uint64_t refused() const { return out_of_fds_.total(); }

private:
    static void on_ready(void *self, int fd, uint32_t events);
    static void on_resume(void *self);
    enum class Refusal { refused, none_waiting, impossible };
    void accept_all();
    Refusal refuse_one(); // spends the reserve on the next waiting client
    void pause();       // unwatch for a moment; on_resume watches again
    int watch();

    const ipchub_host *host_ = nullptr;
    std::string path_; // a UNIX socket file to remove at stop, or empty
    Accepted on_accepted_ = nullptr;
    void *user_ = nullptr;
    int fd_ = -1;
    int reserve_fd_ = -1;
    int64_t resume_timer_ = 0; // > 0 while paused
    RepeatedWarning out_of_fds_;
    std::string out_of_fds_text_; // with the limit, as it was at start
};

} // namespace ipchub::plugin
