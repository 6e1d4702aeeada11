// The registry seen from a running hub: a plugin whose init fails is skipped
// with one line (or stops the hub when required), and plugins built with
// other table sizes (ABI 1.0-sized, and a newer minor with extra members)
// really carry messages. The test plugins live in tests/plugins/.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <signal.h>

using itest::Sandbox;

namespace {

const std::string kTestPlugins = std::string(IPCHUB_BUILD_ROOT) + "/tests/plugins";
const std::string kStockPlugins = std::string(IPCHUB_BUILD_ROOT) + "/lib/ipchub/plugins";

std::string entry(const std::string &name, const std::string &file, bool required = false) {
    return "{\"name\": \"" + name + "\", \"file\": \"" + file + "\", \"required\": " + (required ? "true" : "false") +
           "}";
}
std::string test_plugin(const std::string &name, bool required = false) {
    return entry(name, kTestPlugins + "/libipchub-test-" + name + ".so", required);
}
std::string socket_plugin() { return entry("socket", kStockPlugins + "/libipchub-socket.so"); }

// Writes a plugins.json with `entries` into the sandbox; returns its path.
std::string write_config(Sandbox &sb, const std::vector<std::string> &entries) {
    std::string path = sb.dir() + "/plugins.json";
    itest::write_file(path, "{\"plugins\": [" + itest::join(entries, ",\n") + "]}\n");
    return path;
}

} // namespace

TEST_CASE("registry: the hub skips a plugin whose init fails, says why, and serves with the rest") {
    Sandbox sb("reg-initfail");
    std::string cfg = write_config(sb, {test_plugin("initfail"), socket_plugin()});
    sb.start_hub({"--config", cfg});
    std::string err = sb.hub().err();
    INFO(err);
    CHECK(err.find("skipping plugin 'initfail' (" + kTestPlugins +
                   "/libipchub-test-initfail.so): init failed: test plugin refuses to start on purpose") !=
          std::string::npos);
    CHECK(sb.hub().out().find("Backends available: socket\n") != std::string::npos);
    auto sub = sb.subscriber("socket", "still-works", {"--config", cfg, "--count", "1"});
    auto pub = sb.publisher("socket", "still-works", {"--config", cfg}, itest::with_stdin("yes\n"));
    CHECK(pub.wait() == 0);
    CHECK(sub.wait() == 0);
    CHECK(sub.out() == "[still-works] yes\n");
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("registry: a required plugin that fails to init or to load stops the hub with exit 1") {
    for (const char *broken : {"initfail", "major2"}) {
        CAPTURE(broken);
        Sandbox sb(std::string("reg-req-") + broken);
        std::string cfg = write_config(sb, {socket_plugin(), test_plugin(broken, true)});
        auto hub = sb.run({itest::bin("myipchub"), "--config", cfg});
        CHECK(hub.wait() == 1);
        std::string err = hub.err();
        INFO(err);
        CHECK(err.find(std::string("skipping plugin '") + broken + "'") != std::string::npos);
        CHECK(hub.out().find("Listening for connections") == std::string::npos);
        CHECK(sb.leftovers().empty());
    }
}

TEST_CASE("abi: plugins with a 1.0-sized table and a newer-minor table carry messages both ways") {
    Sandbox sb("abi-sizes");
    std::string cfg = write_config(sb, {socket_plugin(), test_plugin("abi-old"), test_plugin("abi-new")});
    // Spinning, the hub calls hub_poll (ABI 1.1) where a table has one. The
    // 1.0 table is followed by poison where hub_poll would be: the registry
    // copies only struct_size bytes, so a spinning hub must still see none.
    sb.start_hub({"--config", cfg, "--spin-us", "200"});
    INFO(sb.hub().err());
    CHECK(sb.hub().out().find("Backends available: socket, abi-old, abi-new\n") != std::string::npos);
    const std::vector<std::pair<std::string, std::string>> pairs = {
        {"abi-old", "abi-new"}, {"abi-new", "abi-old"}, {"abi-old", "socket"}, {"socket", "abi-new"}};
    for (auto &[from, to] : pairs) {
        CAPTURE(from);
        CAPTURE(to);
        std::string channel = from + "-to-" + to;
        auto sub = sb.subscriber(to, channel, {"--config", cfg, "--count", "2"});
        auto pub = sb.publisher(from, channel, {"--config", cfg}, itest::with_stdin("one\ntwo\n"));
        CHECK(pub.wait() == 0);
        CHECK(sub.wait() == 0);
        CHECK(sub.out() == "[" + channel + "] one\n[" + channel + "] two\n");
    }
    // A host that called a member beyond struct_size would have hit the
    // plugin's poison (abort): the hub would not be alive to shut down cleanly.
    CHECK(sb.hub().err().find("ABI VIOLATION") == std::string::npos);
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    CHECK(sb.leftovers().empty());
}
