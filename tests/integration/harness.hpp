// Process-level test harness: starts real myipchub / myipcpub / myipcsub
// processes in a sandbox of their own (a unique instance name and a private
// runtime directory), captures their output in files, and lists whatever the
// instance left behind (files, /dev/shm objects, message queues, processes).
#pragma once

#include <ipchub/client.hpp>

#include <sys/types.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace itest {

std::string bin(const std::string &tool); // path of a built tool
std::string read_file(const std::string &path);
void write_file(const std::string &path, const std::string &bytes);
long long now_ms();
// CPU time (user + system) a process used so far, in clock ticks (10 ms).
long cpu_ticks(pid_t pid);
// Write system calls this process made so far (syscw of /proc/self/io).
long long write_syscalls();

// Polls `done` every 10 ms until it holds or timeout_ms passes.
template <typename Pred> bool eventually(Pred done, int timeout_ms = 5000);

class Process {
public:
    struct Options {
        std::map<std::string, std::string> env; // added to the sandbox's environment
        std::string stdin_text;                 // written to stdin, then stdin is closed
        bool keep_stdin_open = false;           // stdin stays a pipe: write_stdin / close_stdin
    };

    Process() = default;
    Process(const std::vector<std::string> &argv, const std::string &out_path, const std::string &err_path,
            const std::map<std::string, std::string> &env, const Options &options);
    Process(Process &&other) noexcept;
    Process &operator=(Process &&other) noexcept;
    ~Process(); // SIGKILLs and reaps a process still running

    pid_t pid() const { return pid_; }
    bool running();
    // Waits for exit; returns the exit code, 128+signal when killed, -1 on timeout.
    int wait(int timeout_ms = 10000);
    void signal(int sig);
    void write_stdin(const std::string &bytes);
    void close_stdin();

    std::string out() const { return read_file(out_path_); }
    std::string err() const { return read_file(err_path_); }
    bool wait_out(const std::string &needle, int timeout_ms = 5000) const;
    bool wait_err(const std::string &needle, int timeout_ms = 5000) const;
    const std::string &out_path() const { return out_path_; }

private:
    void reap(int status);
    void terminate(); // SIGKILL and reap if still running
    pid_t pid_ = -1;
    int stdin_fd_ = -1;
    int status_ = -1;
    bool reaped_ = false;
    std::string out_path_, err_path_;
};

// Options with just stdin text (designated initializers would warn).
inline Process::Options with_stdin(std::string text) {
    Process::Options o;
    o.stdin_text = std::move(text);
    return o;
}

class Sandbox {
public:
    explicit Sandbox(const std::string &name);
    ~Sandbox(); // kills what is still running, removes the private directory

    const std::string &instance() const { return instance_; }
    const std::string &runtime_dir() const { return runtime_dir_; }      // the base passed to tools
    std::string instance_dir() const { return runtime_dir_ + "/" + instance_; }
    const std::string &dir() const { return dir_; }                      // scratch space for the test
    std::map<std::string, std::string> env() const;

    // Any program, with the sandbox's environment.
    Process run(const std::vector<std::string> &argv, const Process::Options &options = {});
    // myipchub with `args`; waits for "Listening for connections..." (FAILs the test if it does not come).
    Process &start_hub(const std::vector<std::string> &args = {}, const Process::Options &options = {});
    Process &hub() { return hub_; }
    // myipcsub on `channel` over `backend`; waits until it is subscribed.
    Process subscriber(const std::string &backend, const std::string &channel, const std::vector<std::string> &args = {});
    // myipcpub; returns once it exited (exit code via Process::wait()).
    Process publisher(const std::string &backend, const std::string &channel, const std::vector<std::string> &args,
                      const Process::Options &options = {});

    // A client of this sandbox's hub in the test process, through the public API.
    ipchub::Client client(const std::string &backend = "socket", const std::string &name = "test") const;

    // Everything of this instance still on the machine: files under the
    // runtime dir, /dev/shm and /dev/mqueue names containing the instance,
    // and processes whose environment names the instance. Empty = clean.
    std::vector<std::string> leftovers() const;

private:
    std::string name_, instance_, dir_, runtime_dir_;
    Process hub_;
    int counter_ = 0;
};

template <typename Pred> bool eventually(Pred done, int timeout_ms) {
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        if (done()) return true;
        if (now_ms() > deadline) return false;
        struct timespec ts { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, nullptr);
    }
}

std::string join(const std::vector<std::string> &items, const char *sep = ", ");

} // namespace itest
