// The host table a plugin is given (core/host_bridge.*), under the real event
// loop: each half reaches what it was given, and post, the one call a
// plugin's own thread may make (tests/plugins/post_plugin.c), keeps the
// contract of plugin.h.
#include "host_bridge.hpp"
#include "plugin_registry.hpp"

#include <doctest/doctest.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace ipchub;
using namespace ipchub::core;

namespace {

struct Line {
    Level level;
    std::string text;
};

// Records what the connection half was asked to do.
struct RecordingConnections final : ConnectionServices {
    std::vector<std::string> calls;
    void *opened(void *plugin_conn, const char *peer) override {
        calls.push_back(std::string("opened ") + (peer ? peer : "?"));
        return plugin_conn;
    }
    void received(void *, const void *data, size_t len) override {
        calls.push_back("received " + std::string(static_cast<const char *>(data), len));
    }
    void writable(void *) override { calls.push_back("writable"); }
    void closed(void *, int reason) override { calls.push_back("closed " + std::to_string(reason)); }
};

long this_thread_id() { return long(::syscall(SYS_gettid)); }

} // namespace

TEST_CASE("host bridge: log and conn_* reach the two halves it was built from") {
    EventLoop loop;
    std::vector<Line> lines;
    RecordingConnections connections;
    HostBridge bridge({&loop, [&](Level level, const std::string &text) { lines.push_back({level, text}); }},
                      connections);
    const ipchub_host *h = bridge.host();
    REQUIRE(h->ctx != nullptr);
    h->log(h, 7, "too verbose"); // levels beyond debug are clamped, not dropped
    h->log(h, IPCHUB_LOG_WARN, nullptr);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].level == Level::debug);
    CHECK(lines[0].text == "too verbose");
    CHECK(lines[1].level == Level::warn);
    CHECK(lines[1].text.empty());

    int conn = 0;
    void *handle = h->conn_opened(h, &conn, "pid 42");
    CHECK(handle == &conn);
    h->conn_received(h, handle, "abc", 3);
    h->conn_writable(h, handle);
    h->conn_closed(h, handle, 104);
    CHECK(connections.calls == std::vector<std::string>{"opened pid 42", "received abc", "writable", "closed 104"});
}

TEST_CASE("host bridge: a plugin thread's posts run on the loop thread, in order, and never after hub_cleanup") {
    PluginSpec spec;
    spec.name = "post";
    spec.file = "libipchub-test-post.so";
    PluginLoad load = load_plugin(spec, IPCHUB_TEST_PLUGIN_DIR);
    REQUIRE_MESSAGE(load.plugin, load.error);
    const ipchub_plugin &api = load.plugin->api();

    EventLoop loop;
    std::vector<Line> lines;
    RecordingConnections connections;
    HostBridge bridge({&loop, [&](Level level, const std::string &text) { lines.push_back({level, text}); }},
                      connections);
    ipchub_hub_params params{};
    params.abi_version = IPCHUB_ABI_VERSION;
    params.struct_size = sizeof params;
    params.instance = "test";
    params.runtime_dir = "/nonexistent";
    params.config_json = "{}";
    void *state = nullptr;
    char err[256] = {};
    REQUIRE_MESSAGE(api.hub_init(bridge.host(), &params, &state, err, sizeof err) == 0, err);
    REQUIRE_MESSAGE(api.hub_start(state, err, sizeof err) == 0, err);

    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (lines.size() < 50 && std::chrono::steady_clock::now() < deadline) loop.run_once(100);
    // The plugin's thread posts once more as it ends, so a callback is queued
    // when hub_stop returns; as the hub does, no loop turn before cleanup.
    api.hub_stop(state);
    api.hub_cleanup(state);
    bridge.retire();
    size_t ran_before_cleanup = lines.size();
    for (int i = 0; i < 3; ++i) loop.run_once(0); // the queued callback must be dropped, not run

    REQUIRE(ran_before_cleanup >= 50);
    CHECK(lines.size() == ran_before_cleanup);
    const long loop_thread = this_thread_id();
    for (size_t i = 0; i < lines.size(); ++i) {
        INFO(lines[i].text);
        unsigned long long n = 0;
        long thread = 0;
        REQUIRE(std::sscanf(lines[i].text.c_str(), "post %llu ran on thread %ld", &n, &thread) == 2);
        CHECK(n == i + 1);            // in the order posted, none lost
        CHECK(thread == loop_thread); // on the loop's thread, not the poster's
    }
}
