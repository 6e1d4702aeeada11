// The hub half's state, shared by the supervisor (processes) and the
// connection code (the frame pipes). Everything here lives on the hub's
// event-loop thread; nothing is locked.
#pragma once

#include <ipchub/plugin.h>

#include "backoff.hpp"
#include "config.hpp"
#include "line_splitter.hpp"
#include "connection_set.hpp"

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace ipchub::pipe {

struct PipeHub;
struct Child;

// One hub connection: the frame pipes of one run of one child.
struct PipeConn {
    PipeHub *hub;
    Child *child;        // nullptr once that run of the child ended
    int in_fd;           // child -> hub (read, non-blocking)
    int out_fd;          // hub -> child (write, non-blocking)
    void *host_conn = nullptr;
    bool receiving = true;
    bool want_write = false;
    bool hung_up = false;    // EOF/error seen while paused: unwatched until resumed
    bool child_gone = false; // the process exited: close after reading what it left
    int64_t resume_timer = 0; // pending read of a dead child's leftovers

    void teardown(const ipchub_host *host); // connection.cpp
};

// A child's stdout or stderr, read by the hub loop and logged line by line.
struct OutputStream {
    Child *child = nullptr;
    const char *label = "";
    int fd = -1;
    LineSplitter lines;
};

// One configured child; survives its restarts.
struct Child {
    PipeHub *hub;
    ChildSpec spec;
    Backoff backoff;
    pid_t pid = -1;        // > 0 while a run is unreaped
    int pidfd = -1;
    OutputStream out, err;
    PipeConn *conn = nullptr; // the current run's connection, if still open
    int64_t restart_timer = 0;
    long long started_ms = 0;
    unsigned runs = 0;

    Child(PipeHub *h, ChildSpec s) : hub(h), spec(std::move(s)), backoff(spec.backoff_initial_ms, spec.backoff_max_ms) {
        out.child = err.child = this;
        out.label = "";
        err.label = " (stderr)";
    }
};

struct PipeHub {
    static constexpr size_t kReadBuffer = 256 * 1024;

    const ipchub_host *host = nullptr;
    PipeConfig config;
    std::string bin_dir;
    std::vector<std::unique_ptr<Child>> children;
    plugin::ConnectionSet<PipeConn> conns;
    bool stopping = false;    // hub_stop: no restarts
    bool terminating = false; // hub_cleanup: children were sent SIGTERM
    long long stop_started_ms = 0;
    unsigned char buffer[kReadBuffer];
};

void log(PipeHub *h, int level, const std::string &text);

// ---- pipe_conn.cpp: the byte stream of frames ----
// Opens the hub connection for a freshly started child (conn_opened).
// Returns nullptr (and closes the descriptors) when the hub refuses it.
PipeConn *open_conn(PipeHub *h, Child *child, int in_fd, int out_fd);
int64_t conn_send(PipeConn *c, const struct iovec *iov, size_t iovcnt);
void conn_set_receiving(PipeConn *c, bool enabled);
void conn_child_exited(PipeConn *c); // read what is left, then conn_closed

// ---- supervisor.cpp: processes ----
void start_children(PipeHub *h);
void stop_children(PipeHub *h);        // hub_stop: no more restarts (children keep running)
void terminate_children(PipeHub *h);   // hub_cleanup: SIGTERM to every child
void wait_for_children(PipeHub *h);    // hub_cleanup: bounded wait, SIGKILL, reap all

} // namespace ipchub::pipe
