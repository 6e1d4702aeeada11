// The pipe transport: children the hub starts (--spawn and the plugin's
// "children" config), mixed with socket clients; supervision (restart
// policy, back-off, reaping) and the stop sequence.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>

using itest::Sandbox;

namespace {

size_t count_of(const std::string &text, const std::string &needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++n;
    return n;
}

bool hub_log_has(Sandbox &sb, const std::string &needle, int timeout_ms = 8000) {
    return sb.hub().wait_err(needle, timeout_ms);
}

// A plugins.json with the socket transport and the pipe transport configured
// with `pipe_config`.
std::string write_config(Sandbox &sb, const std::string &pipe_config) {
    std::string path = sb.dir() + "/plugins.json";
    itest::write_file(path, R"({"hub": {"shutdown_drain_ms": 500}, "plugins": [
        {"name": "socket", "file": "libipchub-socket.so", "enabled": true, "required": true, "config": {}},
        {"name": "pipe", "file": "libipchub-pipe.so", "enabled": true, "required": true, "config": )" +
                                pipe_config + "}]}");
    return path;
}

// Zombie children of `pid` right now (state Z in /proc/<child>/stat).
std::set<std::string> zombies_of(pid_t pid) {
    std::set<std::string> found;
    std::error_code ec;
    for (auto &e : std::filesystem::directory_iterator("/proc", ec)) {
        std::string name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string stat = itest::read_file(e.path().string() + "/stat");
        auto close = stat.rfind(')');
        if (close == std::string::npos || close + 4 >= stat.size()) continue;
        char state = stat[close + 2];
        long ppid = std::strtol(stat.c_str() + close + 4, nullptr, 10);
        if (state == 'Z' && ppid == pid) found.insert(name);
    }
    return found;
}

// Samples the hub's children: a zombie may exist for an instant (between a
// child's exit and the hub's next loop turn) but never for long.
struct ZombieWatch {
    explicit ZombieWatch(pid_t hub_pid) : hub(hub_pid) {}
    pid_t hub;
    std::map<std::string, long long> first_seen;
    std::vector<std::string> lingering;
    void sample() {
        long long now = itest::now_ms();
        auto z = zombies_of(hub);
        for (auto &pid : z) {
            auto [it, fresh] = first_seen.emplace(pid, now);
            if (!fresh && now - it->second > 1000) lingering.push_back(pid);
        }
        for (auto it = first_seen.begin(); it != first_seen.end();)
            it = z.count(it->first) ? std::next(it) : first_seen.erase(it);
    }
    void for_ms(int ms) {
        long long end = itest::now_ms() + ms;
        while (itest::now_ms() < end) {
            sample();
            ::usleep(20 * 1000);
        }
    }
};

std::vector<int> restart_delays(const std::string &log, const std::string &child) {
    std::vector<int> delays;
    std::regex re("restarting child '" + child + "' in ([0-9]+) ms");
    for (auto it = std::sregex_iterator(log.begin(), log.end(), re); it != std::sregex_iterator(); ++it)
        delays.push_back(std::stoi((*it)[1]));
    return delays;
}

void stop_hub(Sandbox &sb) {
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    CHECK(sb.leftovers().empty());
    INFO(itest::join(sb.leftovers(), "\n"));
}

} // namespace

TEST_CASE("pipe: a spawned subscriber receives what a socket publisher sends") {
    Sandbox sb("pipesub");
    std::string out = sb.dir() + "/child.out";
    sb.start_hub({"--spawn", itest::bin("myipcsub") + " --backend pipe --channel t --count 3 > '" + out + "'"});
    // Its stderr reaches the hub's log: this line says it is subscribed.
    REQUIRE(hub_log_has(sb, "spawn-1 (stderr): Subscribed to [t] via pipe"));
    auto pub = sb.publisher("socket", "t", {}, itest::with_stdin("one\ntwo\nthree\n"));
    CHECK(pub.wait() == 0);
    CHECK(pub.out() == "Published (1 subscriber)\nPublished (1 subscriber)\nPublished (1 subscriber)\n");
    REQUIRE(hub_log_has(sb, "child 'spawn-1' (pid "));
    REQUIRE(hub_log_has(sb, "exited with status 0"));
    CHECK(itest::read_file(out) == "[t] one\n[t] two\n[t] three\n");
    stop_hub(sb);
}

TEST_CASE("pipe: a spawned publisher reaches a socket subscriber") {
    Sandbox sb("pipepub");
    std::string go = sb.dir() + "/go";
    // Found through PATH: the hub puts its own bin directory first.
    sb.start_hub({"--spawn", "while [ ! -e '" + go + "' ]; do sleep 0.05; done; myipcpub --backend pipe --channel t --message hi"});
    auto sub = sb.subscriber("socket", "t", {"--count", "1"});
    itest::write_file(go, "");
    REQUIRE(hub_log_has(sb, "spawn-1: Published (1 subscriber)"));
    CHECK(sub.wait() == 0);
    CHECK(sub.out() == "[t] hi\n");
    CHECK(hub_log_has(sb, "exited with status 0"));
    stop_hub(sb);
}

TEST_CASE("pipe: on-failure restarts with back-off, never does not") {
    Sandbox sb("piperestart");
    std::string config = write_config(sb, R"({"children": [
        {"name": "flaky", "command": "echo run; exit 1", "restart": "on-failure", "backoff_initial_ms": 50, "backoff_max_ms": 200},
        {"name": "once", "command": "exit 1", "restart": "never"},
        {"name": "fine", "command": "exit 0", "restart": "on-failure"}]})");
    sb.start_hub({"--config", config});
    ZombieWatch zw(sb.hub().pid());
    REQUIRE(itest::eventually([&] { zw.sample(); return restart_delays(sb.hub().err(), "flaky").size() >= 5; }, 8000));
    std::string log = sb.hub().err();
    auto delays = restart_delays(log, "flaky");
    delays.resize(5);
    CHECK(delays == std::vector<int>{50, 100, 200, 200, 200}); // doubling, capped
    CHECK(count_of(log, "flaky: run") >= 5);                     // its stdout, once per run
    CHECK(count_of(log, "exited with status 1") >= 6);
    CHECK(count_of(log, "started child 'once'") == 1);
    CHECK(count_of(log, "child 'once' is not restarted (restart: never)") == 1);
    CHECK(count_of(log, "started child 'fine'") == 1); // exit 0 is no failure
    CHECK(zw.lingering.empty());
    stop_hub(sb);
}

TEST_CASE("pipe: a child inherits its pipes, a clean signal state and nothing else") {
    Sandbox sb("pipefds");
    std::string out = sb.dir() + "/fds.out";
    sb.start_hub({"--spawn", "{ ls -l /proc/self/fd; grep -E '^Sig(Blk|Ign)' /proc/self/status; "
                             "echo \"FDS=$IPCHUB_PIPE_FDS\"; echo \"PATH=$PATH\"; } > '" + out + "'"});
    REQUIRE(hub_log_has(sb, "exited with status 0"));
    std::string text = itest::read_file(out);
    INFO(text);
    std::regex fd_line(R"(\s([0-9]+) -> (.*))");
    std::map<int, std::string> fds;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), fd_line); it != std::sregex_iterator(); ++it)
        fds[std::stoi((*it)[1])] = (*it)[2];
    CHECK(fds[0] == "/dev/null");
    CHECK(fds[1] == out);                         // the command's own redirection
    CHECK(fds[2].rfind("pipe:", 0) == 0);         // stderr: to the hub's log
    CHECK(fds[3].rfind("pipe:", 0) == 0);         // hub -> child
    CHECK(fds[4].rfind("pipe:", 0) == 0);         // child -> hub
    for (auto &[fd, target] : fds)                // ls's own directory handle aside
        if (fd > 4) CHECK_MESSAGE(target.rfind("/proc/", 0) == 0, "leaked descriptor " << fd << " -> " << target);
    CHECK(fds.size() <= 6);
    CHECK(text.find("SigBlk:\t0000000000000000") != std::string::npos);
    CHECK(text.find("SigIgn:\t0000000000000000") != std::string::npos);
    CHECK(text.find("FDS=3,4\n") != std::string::npos);
    CHECK(text.find("PATH=" + std::string(IPCHUB_BIN_DIR) + ":") != std::string::npos);
    stop_hub(sb);
}

TEST_CASE("pipe: --backend pipe outside the hub fails clearly") {
    Sandbox sb("pipeoutside");
    sb.start_hub();
    auto p = sb.run({itest::bin("myipcsub"), "--backend", "pipe", "--channel", "t"});
    CHECK(p.wait() == 3);
    CHECK(p.err().find("only works in a process started by the hub") != std::string::npos);
    CHECK(p.err().find("IPCHUB_PIPE_FDS is not set") != std::string::npos);
    // A stale variable (inherited, descriptors not): recognised as such.
    // (High numbers: the test runner itself may hold 3 and 4.)
    itest::Process::Options stale;
    stale.env["IPCHUB_PIPE_FDS"] = "900,901";
    auto q = sb.run({itest::bin("myipcpub"), "--backend", "pipe", "--channel", "t", "--message", "x"}, stale);
    CHECK(q.wait() == 3);
    CHECK(q.err().find("not open here") != std::string::npos);
    itest::Process::Options junk;
    junk.env["IPCHUB_PIPE_FDS"] = "three";
    auto r = sb.run({itest::bin("myipcpub"), "--backend", "pipe", "--channel", "t", "--message", "x"}, junk);
    CHECK(r.wait() != 0);
    CHECK(r.err().find("is malformed") != std::string::npos);
    stop_hub(sb);
}

TEST_CASE("pipe: SIGTERM of the hub stops and reaps every child, no zombie ever") {
    Sandbox sb("pipestop");
    std::string config = write_config(sb, R"({"stop_timeout_ms": 500, "children": [
        {"name": "sub", "command": "myipcsub --backend pipe --channel t"},
        {"name": "pipeline", "command": "sleep 300 | cat; true"},
        {"name": "stubborn", "command": "trap '' TERM; sleep 300; true"},
        {"name": "crashy", "command": "exit 3", "restart": "always", "backoff_initial_ms": 20, "backoff_max_ms": 40}]})");
    sb.start_hub({"--config", config});
    ZombieWatch zw(sb.hub().pid());
    REQUIRE(itest::eventually([&] { zw.sample(); return sb.hub().err().find("sub (stderr): Subscribed to [t]") != std::string::npos; }, 8000));
    zw.for_ms(600); // crashy keeps exiting and being restarted meanwhile
    CHECK(count_of(sb.hub().err(), "started child 'crashy'") >= 3);
    sb.hub().signal(SIGTERM);
    itest::eventually([&] { zw.sample(); return !sb.hub().running(); }, 8000);
    CHECK(sb.hub().wait() == 0);
    CHECK(zw.lingering.empty());
    std::string log = sb.hub().err();
    CHECK(log.find("child 'stubborn' (pid ") != std::string::npos);
    CHECK(log.find("did not stop within 500 ms of SIGTERM; sending SIGKILL") != std::string::npos);
    CHECK(log.find("was killed by signal 9") != std::string::npos);
    CHECK(log.find("child 'pipeline' (pid ") != std::string::npos);
    CHECK(sb.leftovers().empty());
    INFO(itest::join(sb.leftovers(), "\n"));
}
