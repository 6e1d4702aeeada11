#include "spawn.hpp"

#include "pidfd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>

extern char **environ;

namespace ipchub::pipe {

namespace {


void close_if_open(int &fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

bool starts_with(const std::string &s, const char *prefix) { return s.rfind(prefix, 0) == 0; }

// Async-signal-safe: writes a fixed message and a decimal errno to fd 2.
void child_fail(const char *what, int err) {
    char digits[16];
    int n = 0;
    unsigned v = unsigned(err);
    do digits[sizeof digits - 1 - n++] = char('0' + v % 10);
    while ((v /= 10) && n < 15);
    const char *prefix = "ipchub pipe: cannot start child: ";
    (void)!::write(2, prefix, std::strlen(prefix));
    (void)!::write(2, what, std::strlen(what));
    (void)!::write(2, " (errno ", 8);
    (void)!::write(2, digits + sizeof digits - n, size_t(n));
    (void)!::write(2, ")\n", 2);
    ::_exit(127);
}

// Signals the warden caught, to hand on to the shell (set by the handler).
volatile sig_atomic_t g_caught[NSIG];
pid_t g_hub_pid = 0;

// Catchable signals the warden takes over; the synchronous ones (a fault in
// the warden itself) keep their default action.
bool warden_catches(int sig) {
    switch (sig) {
    case SIGKILL: case SIGSTOP: case SIGCHLD:
    case SIGSEGV: case SIGBUS: case SIGILL: case SIGFPE: case SIGABRT: case SIGTRAP: case SIGSYS:
        return false;
    default:
        return true;
    }
}

void warden_handler(int sig, siginfo_t *info, void *) {
    // The hub signals the whole group, so the shell got this one already;
    // only a signal someone sent to the warden's pid alone is handed on.
    if (info->si_pid != g_hub_pid) g_caught[sig] = 1;
}

// The process the hub supervises (pid, pidfd, process group leader). It runs
// `/bin/sh -c COMMAND` as its child and waits for it, because the kernel's
// PR_SET_PDEATHSIG reaches only the hub's direct child: were that the shell,
// a hub killed with SIGKILL would leave whatever the shell forked (dash does
// not exec the last command of -c) running. The warden, when the hub dies,
// sends SIGTERM to the whole group; otherwise it hands on what it is sent
// and ends the way the shell ended, so the hub sees the shell's exit status.
[[noreturn]] void run_warden(char *const argv[], char *const envp[]) {
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &all, nullptr); // signals are taken only inside ppoll: no lost wake-up
    struct sigaction catcher {};
    catcher.sa_sigaction = warden_handler;
    catcher.sa_flags = SA_SIGINFO;
    sigfillset(&catcher.sa_mask);
    for (int sig = 1; sig < NSIG; ++sig)
        if (warden_catches(sig)) ::sigaction(sig, &catcher, nullptr);

    pid_t shell = ::fork();
    if (shell < 0) child_fail("fork", errno);
    if (shell == 0) {
        // Defaults before unblocking, so a signal sent right now is not
        // taken by the warden's handler in this copy; then the empty mask.
        struct sigaction dfl {};
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; ++sig)
            if (warden_catches(sig)) ::sigaction(sig, &dfl, nullptr);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        ::prctl(PR_SET_PDEATHSIG, SIGTERM); // a warden killed on its own takes the shell along
        ::execve("/bin/sh", argv, envp);
        child_fail("execve /bin/sh", errno);
    }
    // The warden keeps no end of the child's pipes: the hub sees them close
    // when the shell's tree closes them.
    ::close(1);
    ::close(kChildReadFd);
    ::close(kChildWriteFd);
    int pidfd = int(::syscall(SYS_pidfd_open, shell, 0));
    if (pidfd < 0) {
        ::kill(shell, SIGKILL);
        child_fail("pidfd_open", errno);
    }
    bool hub_gone = false;
    for (;;) {
        if (!hub_gone && ::getppid() != g_hub_pid) {
            hub_gone = true;
            ::kill(0, SIGTERM); // the group: the shell and everything it started
        }
        for (int sig = 1; sig < NSIG; ++sig)
            if (g_caught[sig]) {
                g_caught[sig] = 0;
                ::kill(shell, sig);
            }
        pollfd p{pidfd, POLLIN, 0};
        if (::ppoll(&p, 1, nullptr, &none) > 0) break;
    }
    siginfo_t info{};
    info.si_pid = 0;
    while (::waitid(P_PID, id_t(shell), &info, WEXITED) != 0 && errno == EINTR) {
    }
    if (info.si_code == CLD_EXITED) ::_exit(info.si_status);
    // Killed: die of the same signal (without a core of our own).
    int sig = info.si_status;
    rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(sig, &dfl, nullptr);
    sigset_t just;
    sigemptyset(&just);
    sigaddset(&just, sig);
    ::sigprocmask(SIG_UNBLOCK, &just, nullptr);
    ::kill(::getpid(), sig);
    ::_exit(128 + sig); // a signal whose default is to be ignored
}

// Runs in the child between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(const int (&sources)[5], pid_t hub_pid, int max_fd, char *const argv[], char *const envp[]) {
    // Our own process group: the hub signals the group, so a pipeline or a
    // command the shell does not exec gets the signal too.
    ::setpgid(0, 0);
    // The hub blocks SIGINT/SIGTERM and ignores SIGPIPE; exec keeps both.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig)
        if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
    // A hub killed by SIGKILL cannot stop its children: the kernel tells the
    // warden, which stops the group.
    g_hub_pid = hub_pid;
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != hub_pid) ::_exit(127); // the hub died before prctl

    // Lift the sources above 0..4 first (a source may itself be 0..4), then
    // dup2 onto the contract's numbers: dup2 clears close-on-exec on them.
    int high[5];
    for (int i = 0; i < 5; ++i) {
        high[i] = ::fcntl(sources[i], F_DUPFD_CLOEXEC, 10);
        if (high[i] < 0) child_fail("fcntl(F_DUPFD_CLOEXEC)", errno);
    }
    for (int i = 0; i < 5; ++i)
        if (::dup2(high[i], i) != i) child_fail("dup2", errno);
    // Everything above 4 goes: close_range (Linux 5.9), else one by one.
    if (::syscall(SYS_close_range, 5u, ~0u, 0u) != 0)
        for (int fd = 5; fd < max_fd; ++fd) ::close(fd);
    run_warden(argv, envp);
}

} // namespace

std::string own_bin_dir() {
    char path[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) return {};
    std::string exe(path, size_t(n));
    auto slash = exe.rfind('/');
    return slash == std::string::npos ? std::string() : exe.substr(0, slash == 0 ? 1 : slash);
}

std::vector<std::string> child_environment(const std::string &bin_dir, const std::string &name) {
    std::vector<std::string> env;
    std::string path;
    bool has_path = false;
    for (char **e = environ; e && *e; ++e) {
        std::string kv = *e;
        if (starts_with(kv, "IPCHUB_PIPE_") || starts_with(kv, "IPCHUB_CHILD_NAME=")) continue;
        if (starts_with(kv, "PATH=")) {
            has_path = true;
            path = kv.substr(5);
            continue;
        }
        env.push_back(std::move(kv));
    }
    if (!has_path) path = "/usr/local/bin:/usr/bin:/bin";
    if (!bin_dir.empty()) path = path.empty() ? bin_dir : bin_dir + ":" + path;
    env.push_back("PATH=" + path);
    env.push_back("IPCHUB_CHILD_NAME=" + name);
    return env;
}

void close_descriptors(SpawnedChild &c) {
    close_if_open(c.pidfd);
    close_if_open(c.to_child);
    close_if_open(c.from_child);
    close_if_open(c.out);
    close_if_open(c.err);
}

int spawn_child(const std::string &command, std::vector<std::string> env, SpawnedChild &out, std::string &error) {
    // [0] read end, [1] write end; all close-on-exec, so no other child (and
    // nothing a plugin thread forks meanwhile) inherits them.
    int down[2] = {-1, -1}, up[2] = {-1, -1}, so[2] = {-1, -1}, se[2] = {-1, -1};
    int devnull = -1;
    auto close_all = [&] {
        for (int *p : {down, up, so, se})
            for (int i = 0; i < 2; ++i) close_if_open(p[i]);
        close_if_open(devnull);
    };
    if (::pipe2(down, O_CLOEXEC) != 0 || ::pipe2(up, O_CLOEXEC) != 0 || ::pipe2(so, O_CLOEXEC) != 0 ||
        ::pipe2(se, O_CLOEXEC) != 0) {
        int e = errno;
        close_all();
        error = std::string("cannot create pipes: ") + std::strerror(e);
        return -e;
    }
    devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (devnull < 0) {
        int e = errno;
        close_all();
        error = std::string("cannot open /dev/null: ") + std::strerror(e);
        return -e;
    }
    // The pipe inodes let the child's client check that descriptors 3 and 4
    // really are these pipes and not something reusing the numbers.
    struct stat down_st {}, up_st {};
    ::fstat(down[0], &down_st);
    ::fstat(up[1], &up_st);
    env.push_back("IPCHUB_PIPE_FDS=" + std::to_string(kChildReadFd) + "," + std::to_string(kChildWriteFd));
    env.push_back("IPCHUB_PIPE_INODES=" + std::to_string(down_st.st_ino) + "," + std::to_string(up_st.st_ino));

    // Everything the child needs is built before fork: after it, only
    // async-signal-safe calls (the hub may have other threads).
    std::string shell = "sh", dash_c = "-c";
    std::vector<char *> argv{shell.data(), dash_c.data(), const_cast<char *>(command.c_str()), nullptr};
    std::vector<char *> envp;
    for (auto &e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const int sources[5] = {devnull, so[1], se[1], down[0], up[1]};
    rlimit lim{};
    int max_fd = ::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < (1u << 20)
                     ? int(lim.rlim_cur)
                     : 65536;
    pid_t hub_pid = ::getpid();

    pid_t pid = ::fork();
    if (pid < 0) {
        int e = errno;
        close_all();
        error = std::string("fork: ") + std::strerror(e);
        return -e;
    }
    if (pid == 0) exec_child(sources, hub_pid, max_fd, argv.data(), envp.data());

    ::setpgid(pid, pid); // also here, so signalling the group works at once
    int pidfd = plugin::open_pidfd(pid);
    if (pidfd < 0) {
        // Cannot supervise it without a pidfd: stop it and reap it now.
        int e = errno;
        ::kill(pid, SIGKILL);
        siginfo_t info{};
        ::waitid(P_PID, id_t(pid), &info, WEXITED);
        close_all();
        error = std::string("pidfd_open: ") + std::strerror(e) + " (Linux 5.3 or later is needed)";
        return -e;
    }
    // The child's ends are its own now.
    close_if_open(devnull);
    close_if_open(so[1]);
    close_if_open(se[1]);
    close_if_open(down[0]);
    close_if_open(up[1]);
    for (int fd : {down[1], up[0], so[0], se[0]}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    out.pid = pid;
    out.pidfd = pidfd;
    out.to_child = down[1];
    out.from_child = up[0];
    out.out = so[0];
    out.err = se[0];
    return 0;
}

} // namespace ipchub::pipe
