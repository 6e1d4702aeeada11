// Issue 11 item 15: the tools behave the way a new user expects: a
// subscriber piped into `head` exits, children of a hub killed with SIGKILL
// do not outlive it, and a client of a backend the hub does not offer is
// told so.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <signal.h>

#include <string>
#include <vector>

using itest::Sandbox;

namespace {

std::vector<std::string> leftover_processes(const Sandbox &sb) {
    std::vector<std::string> found;
    for (auto &item : sb.leftovers())
        if (item.rfind("process ", 0) == 0) found.push_back(item);
    return found;
}

std::string socket_and_pipe_config(const Sandbox &sb) {
    std::string path = sb.dir() + "/socket-pipe.json";
    itest::write_file(path, R"({"hub": {"shutdown_drain_ms": 500}, "plugins": [
        {"name": "socket", "required": true}, {"name": "pipe", "required": true, "config": {}}]})");
    return path;
}

} // namespace

TEST_CASE("myipcsub | head -1: the subscriber exits 0 once its reader is gone, and unsubscribes") {
    Sandbox sb("sub-head");
    sb.start_hub({"--verbose"});
    // bash for PIPESTATUS: the subscriber's own status, not head's.
    std::string pipeline = "'";
    pipeline += itest::bin("myipcsub") + "' --backend socket --channel news | head -1; echo \"sub=${PIPESTATUS[0]}\"";
    auto shell = sb.run({"/bin/bash", "-c", pipeline});
    REQUIRE(shell.wait_err("Subscribed to", 10000));
    // The first message passes through head; the next ones find the pipe
    // closed. Keep publishing until the subscriber notices (bounded).
    bool exited = itest::eventually(
        [&] {
            sb.publisher("socket", "news", {"--message", "hello", "--quiet"});
            return !shell.running();
        },
        15000);
    CHECK(exited);
    CHECK(shell.wait(5000) == 0);
    CHECK(shell.out() == "[news] hello\nsub=0\n");
    CHECK(shell.err().find("cannot write") == std::string::npos); // quiet, like cat
    // It said goodbye: the hub handled an UNSUBSCRIBE from it.
    CHECK(sb.hub().wait_err("unsubscribed from news", 5000));
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("--spawn: a child the shell forked does not outlive a hub killed with SIGKILL") {
    Sandbox sb("spawn-kill9");
    std::string config = socket_and_pipe_config(sb);
    // dash does not exec the last command of -c: `sleep` is the shell's child.
    sb.start_hub({"--config", config, "--spawn", "sleep 300"});
    REQUIRE(itest::eventually([&] { return leftover_processes(sb).size() >= 3; }, 10000)); // hub, shell, sleep
    sb.hub().signal(SIGKILL);
    CHECK(sb.hub().wait(5000) == 128 + SIGKILL);
    bool gone = itest::eventually([&] { return leftover_processes(sb).empty(); }, 10000);
    CHECK_MESSAGE(gone, "still running: " << itest::join(leftover_processes(sb)));
    // A new hub sweeps what the killed one left; stopping it leaves nothing.
    sb.start_hub({"--config", config});
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("a client of a backend the running hub does not offer is told which it offers, not 'no hub'") {
    Sandbox sb("not-offered");
    std::string path = sb.dir() + "/socket-only.json";
    itest::write_file(path, R"({"plugins": [{"name": "socket", "required": true}]})");
    sb.start_hub({"--config", path});
    // The client's own plugins.json (the sandbox's) has every transport.
    auto pub = sb.run({itest::bin("myipcpub"), "--backend", "fifo", "--channel", "x", "--message", "m"});
    CHECK(pub.wait(10000) == 3);
    INFO("stderr: " << pub.err());
    CHECK(pub.err().find("no hub is running") == std::string::npos);
    CHECK(pub.err().find("runs (pid " + std::to_string(sb.hub().pid()) + ") but does not offer the 'fifo' backend; it offers: socket") !=
          std::string::npos);
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    // With no hub at all, the transport's own "no hub is running" stays.
    auto late = sb.run({itest::bin("myipcpub"), "--backend", "fifo", "--channel", "x", "--message", "m"});
    CHECK(late.wait(10000) == 3);
    CHECK(late.err().find("no hub is running for instance '" + sb.instance() + "'") != std::string::npos);
    CHECK(sb.leftovers().empty());
}
