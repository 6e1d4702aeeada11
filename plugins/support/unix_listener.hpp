// The hub half's listening UNIX socket (socket, shm): bind the instance's
// socket file, watch it on the hub's loop, accept every waiting client with
// its credentials and hand it to the transport.
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

#include "peer.hpp"
#include "repeated_warning.hpp"

#include <ipchub/plugin.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace ipchub::plugin {

class UnixListener {
public:
    // A client was accepted: the transport owns `fd` (non-blocking,
    // close-on-exec) from now on.
    using Accepted = void (*)(void *user, int fd, const PeerCredentials &peer);

    UnixListener() = default;
    UnixListener(const UnixListener &) = delete;
    UnixListener &operator=(const UnixListener &) = delete;
    ~UnixListener() { stop(); }

    // hub_start: listen_unix(path, type, mode) (unix_socket.hpp), watch it,
    // log "listening on <path><detail>". 0, or a negative errno with a message
    // (nothing left behind).
    int start(const ipchub_host *host, const std::string &path, int type, uint32_t mode, Accepted on_accepted,
              void *user, const std::string &detail, char *err, size_t err_len);

    // hub_stop: stop accepting, close, remove the socket file. Idempotent.
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
    std::string path_;
    Accepted on_accepted_ = nullptr;
    void *user_ = nullptr;
    int fd_ = -1;
    int reserve_fd_ = -1;
    int64_t resume_timer_ = 0; // > 0 while paused
    RepeatedWarning out_of_fds_;
    std::string out_of_fds_text_; // with the limit, as it was at start
};

} // namespace ipchub::plugin
