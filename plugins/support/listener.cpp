#include "listener.hpp"

#include "connection_set.hpp"
#include "errors.hpp"
#include "unix_socket.hpp"

#include <sys/resource.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ipchub::plugin {

namespace {

// How long the listener rests when it could not even keep its reserve
// descriptor: long enough to cost nothing, short enough to notice clients
// leaving soon.
constexpr uint32_t kPauseMs = 250;

int open_reserve() { return ::open("/dev/null", O_RDONLY | O_CLOEXEC); }

std::string out_of_fds_text() {
    rlimit lim{};
    std::string limit =
        ::getrlimit(RLIMIT_NOFILE, &lim) == 0 ? " (open file limit " + std::to_string(lim.rlim_cur) + ")" : "";
    return "out of file descriptors" + limit + ": refused a client; refusing new clients until some leave";
}

} // namespace

int Listener::adopt(const ipchub_host *host, int listen_fd, Accepted on_accepted, void *user, char *err,
                    size_t err_len) {
    host_ = host;
    fd_ = listen_fd;
    on_accepted_ = on_accepted;
    user_ = user;
    out_of_fds_text_ = out_of_fds_text();
    reserve_fd_ = open_reserve();
    if (reserve_fd_ < 0) {
        int e = errno;
        stop();
        return format_error(err, err_len, -e, "cannot open a reserve descriptor (/dev/null): %s", std::strerror(e));
    }
    if (int rc = watch(); rc < 0) {
        stop();
        return format_error(err, err_len, rc, "cannot watch the listening socket: %s", std::strerror(-rc));
    }
    return 0;
}

int Listener::listen_unix(const ipchub_host *host, const std::string &path, int type, uint32_t mode,
                          Accepted on_accepted, void *user, const std::string &detail, char *err, size_t err_len) {
    int fd = plugin::listen_unix(path, type, mode, err, err_len);
    if (fd < 0) return fd;
    path_ = path;
    if (int rc = adopt(host, fd, on_accepted, user, err, err_len); rc < 0) return rc;
    std::string line = "listening on " + path + detail;
    host->log(host, IPCHUB_LOG_DEBUG, line.c_str());
    return 0;
}

void Listener::stop() {
    if (resume_timer_ > 0) host_->cancel_timer(host_, resume_timer_);
    resume_timer_ = 0;
    if (fd_ >= 0) {
        close_watched(host_, fd_);
        if (!path_.empty()) ::unlink(path_.c_str());
    }
    path_.clear();
    if (reserve_fd_ >= 0) ::close(reserve_fd_);
    reserve_fd_ = -1;
}

int Listener::watch() { return host_->watch_fd(host_, fd_, IPCHUB_EV_READ, on_ready, this); }

void Listener::on_ready(void *self, int, uint32_t) { static_cast<Listener *>(self)->accept_all(); }

void Listener::accept_all() {
    for (;;) {
        int fd;
        do fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        while (fd < 0 && errno == EINTR);
        if (fd >= 0) {
            out_of_fds_.settle(host_, IPCHUB_LOG_WARN, "clients refused for lack of file descriptors");
            on_accepted_(user_, fd);
            continue;
        }
        fd = -errno;
        // accept4 says EMFILE before it looks for a client: maybe none waits.
        if (fd != -EMFILE && fd != -ENFILE) return; // -EAGAIN: all taken
        switch (refuse_one()) {
        case Refusal::none_waiting: return;
        case Refusal::refused: out_of_fds_.report(host_, IPCHUB_LOG_WARN, out_of_fds_text_); continue;
        case Refusal::impossible: out_of_fds_.report(host_, IPCHUB_LOG_WARN, out_of_fds_text_); return pause();
        }
    }
}

Listener::Refusal Listener::refuse_one() {
    if (reserve_fd_ < 0) return Refusal::impossible;
    ::close(reserve_fd_);
    int fd;
    do fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    while (fd < 0 && errno == EINTR);
    int accept_errno = fd < 0 ? errno : 0;
    if (fd >= 0) ::close(fd); // the client sees its connection end
    reserve_fd_ = open_reserve();
    if (fd >= 0) return reserve_fd_ >= 0 ? Refusal::refused : Refusal::impossible;
    if (accept_errno == EAGAIN || accept_errno == EWOULDBLOCK) return Refusal::none_waiting;
    // Still out of descriptors with the reserve spent (ENFILE: another
    // process took it), or the socket failed: only a pause helps.
    return Refusal::impossible;
}

void Listener::pause() {
    int64_t timer = host_->add_timer(host_, kPauseMs, 0, on_resume, this);
    if (timer <= 0) return; // no timer either: stay watched rather than deaf for ever
    host_->unwatch_fd(host_, fd_);
    resume_timer_ = timer;
}

void Listener::on_resume(void *self) {
    auto *l = static_cast<Listener *>(self);
    l->resume_timer_ = 0;
    if (l->reserve_fd_ < 0) l->reserve_fd_ = open_reserve();
    if (l->fd_ >= 0 && l->watch() == 0) l->accept_all();
}

} // namespace ipchub::plugin
