// Keeps a write to a pipe whose reader is gone from killing the process.
//
// The hub and the stock tools ignore SIGPIPE, but a program that uses a
// client half through libipchub may not, and pipes have no MSG_NOSIGNAL.
// While a SigpipeGuard lives, SIGPIPE is blocked in the calling thread; if
// the guarded write failed with EPIPE, epipe() takes the SIGPIPE that write
// raised off the thread's pending set (unless one was pending before), so it
// is never delivered. Costs one sigaction() when SIGPIPE is ignored. (The
// technique libcurl and git use.)
#pragma once

#include <pthread.h>
#include <signal.h>
#include <time.h>

#include <cerrno>

namespace ipchub::plugin {

class SigpipeGuard {
public:
    SigpipeGuard() {
        struct sigaction current {};
        if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_IGN) return;
        sigemptyset(&pipe_);
        sigaddset(&pipe_, SIGPIPE);
        sigset_t pending;
        sigemptyset(&pending);
        ::sigpending(&pending);
        pending_before_ = sigismember(&pending, SIGPIPE) == 1;
        active_ = ::pthread_sigmask(SIG_BLOCK, &pipe_, &saved_) == 0;
    }
    ~SigpipeGuard() {
        if (active_) ::pthread_sigmask(SIG_SETMASK, &saved_, nullptr);
    }
    SigpipeGuard(const SigpipeGuard &) = delete;
    SigpipeGuard &operator=(const SigpipeGuard &) = delete;

    // Call after the guarded write failed with EPIPE (errno is preserved).
    void epipe() {
        if (!active_ || pending_before_) return;
        int saved_errno = errno;
        timespec zero{0, 0};
        while (::sigtimedwait(&pipe_, nullptr, &zero) < 0 && errno == EINTR) {
        }
        errno = saved_errno;
    }

private:
    sigset_t pipe_{};
    sigset_t saved_{};
    bool active_ = false;
    bool pending_before_ = false;
};

} // namespace ipchub::plugin
