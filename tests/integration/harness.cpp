#include "harness.hpp"

#include <doctest/doctest.h>

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace itest {

namespace fs = std::filesystem;

std::string bin(const std::string &tool) { return std::string(IPCHUB_BIN_DIR) + "/" + tool; }

std::string read_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void write_file(const std::string &path, const std::string &bytes) {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
}

long cpu_ticks(pid_t pid) {
    std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    auto close_paren = stat.rfind(')');
    if (close_paren == std::string::npos) return 0;
    std::istringstream fields(stat.substr(close_paren + 2));
    std::string field;
    long utime = 0, stime = 0;
    for (int i = 3; fields >> field; ++i) {
        if (i == 14) utime = std::stol(field);
        if (i == 15) {
            stime = std::stol(field);
            break;
        }
    }
    return utime + stime;
}

long long write_syscalls() {
    std::string io = read_file("/proc/self/io");
    auto at = io.find("syscw: ");
    return at == std::string::npos ? -1 : std::stoll(io.substr(at + 7));
}

long long now_ms() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

std::string join(const std::vector<std::string> &items, const char *sep) {
    std::string out;
    for (auto &i : items) out += (out.empty() ? "" : sep) + i;
    return out;
}

// ---- Process ----

Process::Process(const std::vector<std::string> &argv, const std::string &out_path, const std::string &err_path,
                 const std::map<std::string, std::string> &env, const Options &options)
    : out_path_(out_path), err_path_(err_path) {
    int in_pipe[2] = {-1, -1};
    if (::pipe2(in_pipe, O_CLOEXEC) != 0) FAIL("pipe: " << std::strerror(errno));
    std::map<std::string, std::string> merged;
    for (char **e = environ; *e; ++e) {
        std::string kv = *e;
        auto eq = kv.find('=');
        if (eq != std::string::npos) merged[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (auto &[k, v] : env) merged[k] = v;
    for (auto &[k, v] : options.env) merged[k] = v;
    std::vector<std::string> env_strings;
    for (auto &[k, v] : merged) env_strings.push_back(k + "=" + v);

    pid_ = ::fork();
    if (pid_ < 0) FAIL("fork: " << std::strerror(errno));
    if (pid_ == 0) {
        // Child: only async-signal-safe calls from here on (vectors were built before fork).
        std::vector<char *> args, envp;
        for (auto &a : argv) args.push_back(const_cast<char *>(a.c_str()));
        args.push_back(nullptr);
        for (auto &e : env_strings) envp.push_back(const_cast<char *>(e.c_str()));
        envp.push_back(nullptr);
        int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(in_pipe[0], 0);
        ::dup2(out, 1);
        ::dup2(err, 2);
        ::setpgid(0, 0); // its own group, so a test's signal reaches only it
        ::execve(args[0], args.data(), envp.data());
        ::_exit(127);
    }
    ::close(in_pipe[0]);
    stdin_fd_ = in_pipe[1];
    if (!options.stdin_text.empty()) write_stdin(options.stdin_text);
    if (!options.keep_stdin_open) close_stdin();
}

Process::Process(Process &&o) noexcept { *this = std::move(o); }

Process &Process::operator=(Process &&o) noexcept {
    if (this != &o) {
        terminate();
        pid_ = o.pid_;
        stdin_fd_ = o.stdin_fd_;
        status_ = o.status_;
        reaped_ = o.reaped_;
        out_path_ = std::move(o.out_path_);
        err_path_ = std::move(o.err_path_);
        o.pid_ = -1;
        o.stdin_fd_ = -1;
        o.reaped_ = true;
    }
    return *this;
}

Process::~Process() { terminate(); }

void Process::terminate() {
    close_stdin();
    if (pid_ > 0 && !reaped_) {
        ::kill(pid_, SIGKILL);
        int st = 0;
        ::waitpid(pid_, &st, 0);
        reaped_ = true;
    }
}

void Process::reap(int status) {
    reaped_ = true;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool Process::running() {
    if (pid_ <= 0 || reaped_) return false;
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
        reap(st);
        return false;
    }
    return true;
}

int Process::wait(int timeout_ms) {
    if (pid_ <= 0) return -1;
    if (reaped_) return status_;
    eventually([&] { return !running(); }, timeout_ms);
    return reaped_ ? status_ : -1;
}

void Process::signal(int sig) {
    if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

void Process::write_stdin(const std::string &bytes) {
    size_t off = 0;
    while (stdin_fd_ >= 0 && off < bytes.size()) {
        ssize_t n = ::write(stdin_fd_, bytes.data() + off, bytes.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        off += size_t(n);
    }
}

void Process::close_stdin() {
    if (stdin_fd_ >= 0) ::close(stdin_fd_);
    stdin_fd_ = -1;
}

bool Process::wait_out(const std::string &needle, int timeout_ms) const {
    return eventually([&] { return out().find(needle) != std::string::npos; }, timeout_ms);
}

bool Process::wait_err(const std::string &needle, int timeout_ms) const {
    return eventually([&] { return err().find(needle) != std::string::npos; }, timeout_ms);
}

// ---- Sandbox ----

Sandbox::Sandbox(const std::string &name) : name_(name) {
    instance_ = "t-" + name + "-" + std::to_string(::getpid());
    char tmpl[] = "/tmp/ipchub-test.XXXXXX";
    if (!::mkdtemp(tmpl)) FAIL("mkdtemp: " << std::strerror(errno));
    dir_ = tmpl;
    runtime_dir_ = dir_ + "/run";
}

Sandbox::~Sandbox() {
    // A failed test may leave its hub running: stop it the proper way first,
    // so it removes its IPC objects; SIGKILL only if it does not stop.
    if (hub_.running()) {
        hub_.signal(SIGTERM);
        hub_.wait(5000);
    }
    hub_ = Process();
    // Whatever a killed hub or client still left under this instance's name
    // would eat the machine's per-user message queue budget and /dev/shm:
    // remove it (the test has already judged leftovers() if it wanted to).
    std::error_code ec;
    for (const char *dir : {"/dev/shm", "/dev/mqueue"})
        for (auto &e : fs::directory_iterator(dir, ec))
            if (e.path().filename().string().find(instance_) != std::string::npos) fs::remove(e.path(), ec);
    fs::remove_all(dir_, ec);
}

std::map<std::string, std::string> Sandbox::env() const {
    return {{"IPCHUB_INSTANCE", instance_},
            {"IPCHUB_RUNTIME_DIR", runtime_dir_},
            {"IPCHUB_CONFIG", std::string(IPCHUB_BUILD_ROOT) + "/etc/ipchub/plugins.json"},
            {"IPCHUB_PLUGIN_DIR", std::string(IPCHUB_BUILD_ROOT) + "/lib/ipchub/plugins"}};
}

Process Sandbox::run(const std::vector<std::string> &argv, const Process::Options &options) {
    int n = ++counter_;
    std::string base = dir_ + "/p" + std::to_string(n) + "-" + fs::path(argv.at(0)).filename().string();
    return Process(argv, base + ".out", base + ".err", env(), options);
}

Process &Sandbox::start_hub(const std::vector<std::string> &args, const Process::Options &options) {
    std::vector<std::string> argv{bin("myipchub")};
    argv.insert(argv.end(), args.begin(), args.end());
    hub_ = run(argv, options);
    if (!hub_.wait_out("Listening for connections...", 10000))
        FAIL("hub did not start; stdout:\n" << hub_.out() << "\nstderr:\n" << hub_.err());
    return hub_;
}

Process Sandbox::subscriber(const std::string &backend, const std::string &channel, const std::vector<std::string> &args) {
    std::vector<std::string> argv{bin("myipcsub"), "--backend", backend, "--channel", channel};
    argv.insert(argv.end(), args.begin(), args.end());
    Process p = run(argv);
    if (!p.wait_err("Subscribed to", 10000)) FAIL("subscriber did not subscribe; stderr:\n" << p.err());
    return p;
}

Process Sandbox::publisher(const std::string &backend, const std::string &channel, const std::vector<std::string> &args,
                           const Process::Options &options) {
    std::vector<std::string> argv{bin("myipcpub"), "--backend", backend, "--channel", channel};
    argv.insert(argv.end(), args.begin(), args.end());
    Process p = run(argv, options);
    p.wait(30000);
    return p;
}

ipchub::Client Sandbox::client(const std::string &backend, const std::string &name) const {
    ipchub::ClientOptions o;
    o.backend = backend;
    o.instance = instance_;
    o.runtime_dir = runtime_dir_;
    o.config_path = env().at("IPCHUB_CONFIG");
    o.plugin_dir = env().at("IPCHUB_PLUGIN_DIR");
    o.name = name;
    return ipchub::Client::connect(o);
}

std::vector<std::string> Sandbox::leftovers() const {
    std::vector<std::string> found;
    std::error_code ec;
    if (fs::exists(runtime_dir_, ec)) {
        for (auto &e : fs::recursive_directory_iterator(runtime_dir_, ec)) found.push_back(e.path().string());
        if (fs::exists(instance_dir(), ec)) found.push_back(instance_dir());
    }
    // Without the mqueue file system mounted, queues would be invisible here.
    if (!fs::exists("/dev/mqueue", ec) ||
        read_file("/proc/self/mountinfo").find(" /dev/mqueue ") == std::string::npos)
        found.push_back("/dev/mqueue is not mounted: cannot check for leftover message queues");
    for (const char *dir : {"/dev/shm", "/dev/mqueue"}) {
        for (auto &e : fs::directory_iterator(dir, ec))
            if (e.path().filename().string().find(instance_) != std::string::npos) found.push_back(e.path().string());
    }
    // Processes that carry the instance in their environment (the hub exports
    // it to its children), other than this test runner.
    for (auto &e : fs::directory_iterator("/proc", ec)) {
        std::string pid = e.path().filename().string();
        if (pid.find_first_not_of("0123456789") != std::string::npos || pid == std::to_string(::getpid())) continue;
        std::string environ_text = read_file(e.path().string() + "/environ");
        std::string needle = std::string("IPCHUB_INSTANCE=") + instance_;
        size_t at = environ_text.find(needle);
        if (at != std::string::npos && (at + needle.size() == environ_text.size() || environ_text[at + needle.size()] == '\0')) {
            std::string stat = read_file(e.path().string() + "/stat");
            found.push_back("process " + pid + ": " + stat.substr(0, 60));
        }
    }
    return found;
}

} // namespace itest
