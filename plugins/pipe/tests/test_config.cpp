// The pipe plugin's pure parts: its config, the restart back-off schedule,
// the line splitting of child output, and the environment contract parsing.
// The plugin's sources are compiled into this test directly (the plugin is a
// MODULE the unit test binary cannot link).
#include "backoff.hpp"
#include "config.hpp"
#include "hub.hpp"
#include "line_splitter.hpp"
#include "pipe_env.hpp"

#include <cerrno>

#include "testing/hub_init_probe.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ipchub::pipe;

namespace {
std::string parse_error(const std::string &json) {
    PipeConfig config;
    std::string error;
    if (parse_pipe_config(json, config, error)) return "";
    return error;
}
} // namespace

TEST_CASE("config defaults and a full child entry") {
    PipeConfig config;
    std::string error;
    REQUIRE(parse_pipe_config("{}", config, error));
    CHECK(config.children.empty());
    CHECK(config.stop_timeout_ms == 3000);

    REQUIRE(parse_pipe_config(R"({"children": [
        {"name": "logger", "command": "myipcsub --backend pipe --channel logs"},
        {"name": "w.2", "command": "worker", "restart": "on-failure", "backoff_initial_ms": 50, "backoff_max_ms": 400},
        {"name": "x", "command": "true", "restart": "always"}], "stop_timeout_ms": 100})",
                              config, error));
    REQUIRE(config.children.size() == 3);
    CHECK(config.stop_timeout_ms == 100);
    const ChildSpec &a = config.children[0];
    CHECK(a.name == "logger");
    CHECK(a.command == "myipcsub --backend pipe --channel logs");
    CHECK(a.restart == RestartPolicy::never);
    CHECK(a.backoff_initial_ms == 200);
    CHECK(a.backoff_max_ms == 10000);
    CHECK(config.children[1].restart == RestartPolicy::on_failure);
    CHECK(config.children[1].backoff_initial_ms == 50);
    CHECK(config.children[1].backoff_max_ms == 400);
    CHECK(config.children[2].restart == RestartPolicy::always);
}

TEST_CASE("config errors name the offending key") {
    CHECK(parse_error("[") == "config is not valid JSON");
    CHECK(parse_error("[]").find("config: must be an object") == 0);
    CHECK(parse_error(R"({"childs": []})")== R"(config: unknown key "childs" (allowed: children, stop_timeout_ms, comment))");
    CHECK(parse_error(R"({"children": {}})").find("children: must be an array") == 0);
    CHECK(parse_error(R"({"children": ["ls"]})").find("children[0]: must be an object") == 0);
    CHECK(parse_error(R"({"children": [{"command": "ls"}]})") == "children[0]: missing \"name\"");
    CHECK(parse_error(R"({"children": [{"name": "a"}]})") == "children[0]: missing \"command\"");
    CHECK(parse_error(R"({"children": [{"name": "a", "command": "  "}]})") == "children[0].command: must not be empty");
    CHECK(parse_error(R"({"children": [{"name": "a b", "command": "ls"}]})").find("children[0].name: 'a b' is not a valid name") == 0);
    CHECK(parse_error(R"({"children": [{"name": "a", "command": 5}]})") == "children[0].command: must be a string, not number");
    CHECK(parse_error(R"({"children": [{"name": "a", "command": "ls", "restart": "sometimes"}]})")
              .find("children[0].restart: 'sometimes' is not a restart policy") == 0);
    CHECK(parse_error(R"({"children": [{"name": "a", "command": "ls", "restart": true}]})") ==
          "children[0].restart: must be a string, not boolean");
    CHECK(parse_error(R"({"children": [{"name": "a", "command": "ls", "backoff_initial_ms": -1}]})") ==
          "children[0].backoff_initial_ms: must not be negative");
    CHECK(parse_error(R"({"children": [{"name": "a", "command": "ls", "backoff_initial_ms": 1.5}]})")
              .find("children[0].backoff_initial_ms: must be a whole number") == 0);
    CHECK(parse_error(R"({"children": [{"name": "a", "command": "ls", "backoff_initial_ms": 0}]})") ==
          "children[0].backoff_initial_ms: must be at least 1");
    CHECK(parse_error(R"({"children": [{"name": "a", "command": "ls", "backoff_initial_ms": 500, "backoff_max_ms": 100}]})")
              .find("children[0]: backoff_max_ms (100) is smaller than backoff_initial_ms (500)") == 0);
    CHECK(parse_error(R"({"children": [{"name": "a", "command": "ls", "user": "root"}]})").find(R"(children[0]: unknown key "user" (allowed: name, command,)") == 0);
    CHECK(parse_error(R"({"children": [{"name": "a", "command": "ls"}, {"name": "a", "command": "ls"}]})") ==
          "children[1].name: 'a' is used twice");
    CHECK(parse_error(R"({"stop_timeout_ms": "3s"})") == "stop_timeout_ms: must be a whole number of milliseconds, not string");
    CHECK(parse_error(R"({"stop_timeout_ms": 100000000000})").find("stop_timeout_ms: must be at most") == 0);
    CHECK(parse_error(R"({"stop_timeout_ms": 0, "comment": "kill at once"})") == "");
}

TEST_CASE("restart policy decides on the exit") {
    CHECK_FALSE(should_restart(RestartPolicy::never, true));
    CHECK_FALSE(should_restart(RestartPolicy::never, false));
    CHECK_FALSE(should_restart(RestartPolicy::on_failure, true));
    CHECK(should_restart(RestartPolicy::on_failure, false));
    CHECK(should_restart(RestartPolicy::always, true));
    CHECK(should_restart(RestartPolicy::always, false));
}

TEST_CASE("back-off doubles up to the cap and starts over after a stable run") {
    Backoff b(200, 1000);
    std::vector<uint32_t> quick;
    for (int i = 0; i < 6; ++i) quick.push_back(b.next(50));
    CHECK(quick == std::vector<uint32_t>{200, 400, 800, 1000, 1000, 1000});
    CHECK(b.failures() == 6);
    CHECK(b.next(kStableRunMs) == 200); // ran long enough: healthy again
    CHECK(b.next(kStableRunMs - 1) == 400);
    for (int i = 0; i < 200; ++i) b.next(0); // never overflows
    CHECK(b.next(0) == 1000);
    Backoff flat(300, 300);
    CHECK(flat.next(0) == 300);
    CHECK(flat.next(0) == 300);
}

TEST_CASE("child output is logged line by line") {
    LineSplitter s;
    std::vector<std::string> lines;
    auto emit = [&](std::string_view l) { lines.emplace_back(l); };
    std::string_view first = "one\ntw", second = "o\r\n\nthree";
    s.feed(first.data(), first.size(), emit);
    CHECK(lines == std::vector<std::string>{"one"});
    s.feed(second.data(), second.size(), emit);
    CHECK(lines == std::vector<std::string>{"one", "two", "", });
    s.finish(emit);
    CHECK(lines.back() == "three");
    lines.clear();
    std::string big(LineSplitter::kMaxLine * 2 + 10, 'x');
    big += '\n';
    s.feed(big.data(), big.size(), emit);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].size() == LineSplitter::kMaxLine);
    CHECK(lines[1].size() == LineSplitter::kMaxLine);
    CHECK(lines[2].size() == 10);
    lines.clear();
    std::string exact(LineSplitter::kMaxLine, 'y');
    exact += '\n';
    s.feed(exact.data(), exact.size(), emit);
    CHECK(lines.size() == 1); // a line of exactly the limit is not split
}

TEST_CASE("IPCHUB_PIPE_FDS parsing") {
    uint64_t a = 0, b = 0;
    CHECK(parse_number_pair("3,4", a, b));
    CHECK(a == 3);
    CHECK(b == 4);
    CHECK(parse_number_pair("123456789,0", a, b));
    CHECK(a == 123456789);
    for (const char *bad : {"", "3", "3,", ",4", "3,4,5", " 3,4", "3,4 ", "-3,4", "3;4", "99999999999999999999,1"})
        CHECK_MESSAGE(!parse_number_pair(bad, a, b), bad);
}

TEST_CASE("hub_init fails with a config the transport does not know") {
    auto r = ipchub::plugin::testing::probe_hub_init(ipchub::pipe::hub_init, ipchub::pipe::hub_cleanup, R"({"bogus":1})");
    CHECK(r.rc == -EINVAL);
    CHECK_FALSE(r.state_set);
    CHECK(r.error.find("unknown key \"bogus\"") != std::string::npos);
}
