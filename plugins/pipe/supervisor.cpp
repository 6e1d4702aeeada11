// Starting, watching, restarting and stopping the children.
//
// Each child runs in its own process group (spawn.cpp). Its exit is seen at
// once through its pidfd (watched on the hub loop) and reaped right there
// with waitid(P_PIDFD): no zombie outlives one loop iteration. Before
// reaping, the whole group gets SIGKILL: the zombie leader still holds the
// group id, so this reaches exactly the processes the child left behind
// (like systemd's KillMode=control-group) and nothing else.
#include "hub_state.hpp"
#include "spawn.hpp"
#include "supervisor.hpp"

#include "plugin_support.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace ipchub::pipe {

namespace {

using ipchub::plugin::monotonic_ms;

constexpr int kOutputReadsPerWakeup = 4;
// After SIGKILL a process dies at once unless stuck in the kernel (state D);
// the hub does not wait longer than this for it.
constexpr int kKillGraceMs = 2000;

std::string seconds(long long ms) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f s", double(ms) / 1000.0);
    return text;
}

std::string who(const Child &c) { return "child '" + c.spec.name + "' (pid " + std::to_string(c.pid) + ")"; }

// Signals the child's process group (a pipeline, a command the shell did not
// exec); a child that left its group still gets it directly.
void signal_child(Child &c, int sig) {
    if (c.pid <= 0) return;
    if (::kill(-c.pid, sig) != 0) ::syscall(SYS_pidfd_send_signal, c.pidfd, sig, nullptr, 0u);
}

void close_output(OutputStream &s) {
    if (s.fd < 0) return;
    PipeHub *h = s.child->hub;
    h->host->unwatch_fd(h->host, s.fd);
    ::close(s.fd);
    s.fd = -1;
    s.lines.finish([&](std::string_view line) {
        log(h, IPCHUB_LOG_INFO, s.child->spec.name + s.label + ": " + std::string(line));
    });
}

// Logs what the child wrote; closes the stream at EOF.
void read_output(OutputStream &s, int max_reads) {
    PipeHub *h = s.child->hub;
    for (int i = 0; i < max_reads && s.fd >= 0; ++i) {
        ssize_t n = ::read(s.fd, h->buffer, sizeof h->buffer);
        if (n > 0) {
            s.lines.feed(reinterpret_cast<const char *>(h->buffer), size_t(n), [&](std::string_view line) {
                log(h, IPCHUB_LOG_INFO, s.child->spec.name + s.label + ": " + std::string(line));
            });
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        close_output(s); // EOF or error
    }
}

void on_output(void *user, int, uint32_t) { read_output(*static_cast<OutputStream *>(user), kOutputReadsPerWakeup); }

void start_child(Child &c);

void on_restart_timer(void *user) {
    auto &c = *static_cast<Child *>(user);
    c.restart_timer = 0;
    if (!c.hub->stopping) start_child(c);
}

void schedule_restart(Child &c, long long ran_ms) {
    PipeHub *h = c.hub;
    uint32_t delay = c.backoff.next(uint64_t(ran_ms < 0 ? 0 : ran_ms));
    log(h, IPCHUB_LOG_INFO,
        "restarting child '" + c.spec.name + "' in " + std::to_string(delay) + " ms (restart: " +
            restart_policy_name(c.spec.restart) + ", " + std::to_string(c.backoff.failures()) + " quick exit" +
            (c.backoff.failures() == 1 ? "" : "s") + " in a row)");
    int64_t id = h->host->add_timer(h->host, delay, 0, on_restart_timer, &c);
    if (id < 0)
        log(h, IPCHUB_LOG_ERROR, "cannot schedule the restart of child '" + c.spec.name + "': " + std::strerror(int(-id)));
    else
        c.restart_timer = id;
}

// The child exited (its pidfd is readable): reap it, log how, restart it.
void on_exit(Child &c) {
    PipeHub *h = c.hub;
    signal_child(c, SIGKILL); // what it left in its group; the zombie leader keeps the id taken
    siginfo_t info{};
    int rc;
    do rc = ::waitid(idtype_t(P_PIDFD), id_t(c.pidfd), &info, WEXITED);
    while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        log(h, IPCHUB_LOG_ERROR, who(c) + ": waitid failed: " + std::strerror(errno));
        return; // stays watched; a level-triggered pidfd tries again
    }
    long long ran = monotonic_ms() - c.started_ms;
    bool clean = exited_cleanly(info);
    log(h, clean || h->stopping ? IPCHUB_LOG_INFO : IPCHUB_LOG_WARN,
        who(c) + " " + describe_exit(info) + " after " + seconds(ran));
    h->host->unwatch_fd(h->host, c.pidfd);
    ::close(c.pidfd);
    c.pidfd = -1;
    c.pid = -1;
    // Its output is complete now (every writer is dead): log it all.
    read_output(c.out, 1 << 20);
    read_output(c.err, 1 << 20);
    close_output(c.out);
    close_output(c.err);
    if (PipeConn *conn = c.conn) {
        c.conn = nullptr;
        conn_child_exited(conn);
    }
    if (h->stopping) return;
    if (should_restart(c.spec.restart, clean))
        schedule_restart(c, ran);
    else
        log(h, IPCHUB_LOG_INFO, "child '" + c.spec.name + "' is not restarted (restart: " +
                                    restart_policy_name(c.spec.restart) + ")");
}

void on_pidfd(void *user, int, uint32_t) { on_exit(*static_cast<Child *>(user)); }

void watch_output(OutputStream &s, int fd) {
    PipeHub *h = s.child->hub;
    s.fd = fd;
    if (int rc = h->host->watch_fd(h->host, fd, IPCHUB_EV_READ, on_output, &s); rc < 0)
        log(h, IPCHUB_LOG_WARN, "cannot watch the output of child '" + s.child->spec.name + "': " + std::strerror(-rc));
}

void start_child(Child &c) {
    PipeHub *h = c.hub;
    SpawnedChild s;
    std::string error;
    int rc = spawn_child(c.spec.command, child_environment(h->bin_dir, c.spec.name), s, error);
    if (rc < 0) {
        log(h, IPCHUB_LOG_ERROR, "cannot start child '" + c.spec.name + "': " + error);
        if (should_restart(c.spec.restart, false)) schedule_restart(c, 0);
        return;
    }
    c.pid = s.pid;
    c.pidfd = s.pidfd;
    c.started_ms = monotonic_ms();
    ++c.runs;
    if (rc = h->host->watch_fd(h->host, c.pidfd, IPCHUB_EV_READ, on_pidfd, &c); rc < 0) {
        // Unsupervised children are not allowed: stop it at once.
        log(h, IPCHUB_LOG_ERROR, who(c) + ": cannot watch its pidfd: " + std::strerror(-rc) + "; killing it");
        signal_child(c, SIGKILL);
        siginfo_t info{};
        ::waitid(idtype_t(P_PIDFD), id_t(c.pidfd), &info, WEXITED);
        close_descriptors(s);
        c.pid = -1;
        c.pidfd = -1;
        return;
    }
    watch_output(c.out, s.out);
    watch_output(c.err, s.err);
    log(h, IPCHUB_LOG_INFO, "started " + who(c) + (c.runs > 1 ? ", run " + std::to_string(c.runs) : std::string()) +
                                ": " + c.spec.command);
    c.conn = open_conn(h, &c, s.from_child, s.to_child); // takes both descriptors
    if (!c.conn) {
        log(h, IPCHUB_LOG_WARN, who(c) + ": the hub refused its connection; stopping it");
        signal_child(c, SIGTERM);
    }
}

} // namespace

std::string describe_exit(const siginfo_t &info) {
    if (info.si_code == CLD_EXITED) return "exited with status " + std::to_string(info.si_status);
    const char *name = sigdescr_np(info.si_status);
    std::string text = "was killed by signal " + std::to_string(info.si_status) + (name ? std::string(" (") + name + ")" : "");
    if (info.si_code == CLD_DUMPED) text += ", core dumped";
    return text;
}

bool exited_cleanly(const siginfo_t &info) { return info.si_code == CLD_EXITED && info.si_status == 0; }

void log(PipeHub *h, int level, const std::string &text) { h->host->log(h->host, level, text.c_str()); }

void start_children(PipeHub *h) {
    for (auto &c : h->children) start_child(*c);
}

void stop_children(PipeHub *h) {
    // hub_stop: no more restarts. The children keep running (and reading)
    // while the hub drains their backlogs and tells them it shuts down; they
    // are signalled in hub_cleanup (terminate_children).
    if (h->stopping) return;
    h->stopping = true;
    for (auto &c : h->children) {
        if (c->restart_timer > 0) h->host->cancel_timer(h->host, c->restart_timer);
        c->restart_timer = 0;
    }
}

void terminate_children(PipeHub *h) {
    stop_children(h);
    if (h->terminating) return;
    h->terminating = true;
    h->stop_started_ms = monotonic_ms();
    for (auto &c : h->children) {
        if (c->pid > 0) {
            log(h, IPCHUB_LOG_INFO, "stopping " + who(*c) + " with SIGTERM");
            signal_child(*c, SIGTERM);
        }
    }
}

void wait_for_children(PipeHub *h) {
    terminate_children(h);
    long long deadline = h->stop_started_ms + h->config.stop_timeout_ms;
    bool killed = false;
    for (;;) {
        std::vector<pollfd> fds;
        std::vector<std::function<void()>> handlers;
        for (auto &c : h->children) {
            Child *child = c.get();
            if (child->pid > 0) {
                fds.push_back({child->pidfd, POLLIN, 0});
                handlers.push_back([child] { on_exit(*child); });
            }
        }
        if (fds.empty()) break;
        size_t processes = fds.size();
        // Keep logging what they say while they shut down.
        for (auto &c : h->children)
            for (OutputStream *s : {&c->out, &c->err})
                if (s->fd >= 0) {
                    fds.push_back({s->fd, POLLIN, 0});
                    handlers.push_back([s] { read_output(*s, kOutputReadsPerWakeup); });
                }
        long long left = deadline - monotonic_ms();
        if (left <= 0) {
            if (killed) {
                log(h, IPCHUB_LOG_ERROR, std::to_string(processes) +
                                             " child(ren) did not die even after SIGKILL; leaving them to init");
                break;
            }
            for (auto &c : h->children) {
                if (c->pid <= 0) continue;
                log(h, IPCHUB_LOG_WARN, who(*c) + " did not stop within " + std::to_string(h->config.stop_timeout_ms) +
                                            " ms of SIGTERM; sending SIGKILL");
                signal_child(*c, SIGKILL);
            }
            killed = true;
            deadline = monotonic_ms() + kKillGraceMs;
            continue;
        }
        int n = ::poll(fds.data(), fds.size(), int(left));
        if (n < 0 && errno != EINTR) {
            log(h, IPCHUB_LOG_ERROR, std::string("poll: ") + std::strerror(errno));
            break;
        }
        for (size_t i = 0; n > 0 && i < fds.size(); ++i)
            if (fds[i].revents) handlers[i]();
    }
    for (auto &c : h->children) {
        if (c->pidfd >= 0) { // only when a child refused to die: init inherits it
            h->host->unwatch_fd(h->host, c->pidfd);
            ::close(c->pidfd);
            c->pidfd = -1;
            c->pid = -1;
        }
        close_output(c->out);
        close_output(c->err);
    }
}

} // namespace ipchub::pipe
