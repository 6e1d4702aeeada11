// The C client API's error contract (sdk/include/ipchub/client.h): negative
// errno plus a message, never an exception. The happy path runs against a
// real hub in tests/sdk/run_sdk_test.sh (examples/client-c).
#include <ipchub/client.h>

#include <doctest/doctest.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace {

std::string build_config() { return std::string(IPCHUB_BUILD_PLUGIN_DIR) + "/../../../etc/ipchub/plugins.json"; }

struct Attempt {
    int rc;
    std::string err;
    ipchub_client *client;
};

Attempt connect_with(ipchub_client_options o) {
    char err[512] = "untouched";
    ipchub_client *c = reinterpret_cast<ipchub_client *>(1);
    int rc = ipchub_client_connect(&o, &c, err, sizeof err);
    return {rc, err, c};
}

ipchub_client_options base_options() {
    ipchub_client_options o = IPCHUB_CLIENT_OPTIONS_INIT;
    static const std::string config = build_config();
    o.config_path = config.c_str();
    o.plugin_dir = IPCHUB_BUILD_PLUGIN_DIR;
    o.runtime_dir = "/nonexistent/ipchub-client-c-test";
    o.instance = "client-c-test";
    o.connect_timeout_ms = 500;
    return o;
}

} // namespace

TEST_CASE("client-c: no hub is -ECONNREFUSED with a message, and no handle") {
    Attempt a = connect_with(base_options());
    CHECK(a.rc == -ECONNREFUSED);
    CHECK(a.client == nullptr);
    CHECK(a.err.find("no hub is running for instance 'client-c-test'") != std::string::npos);
}

TEST_CASE("client-c: unknown backend, bad config and bad options are reported, not thrown") {
    ipchub_client_options o = base_options();
    o.backend = "carrier-pigeon";
    Attempt unknown = connect_with(o);
    CHECK(unknown.rc == -ENOPROTOOPT);
    CHECK(unknown.err.find("unknown backend 'carrier-pigeon'") != std::string::npos);

    o = base_options();
    o.config_path = "/nonexistent/plugins.json";
    Attempt config = connect_with(o);
    CHECK(config.rc == -EINVAL);
    CHECK(config.err.find("/nonexistent/plugins.json: cannot read") != std::string::npos);

    o = base_options();
    o.instance = "bad/instance";
    CHECK(connect_with(o).rc == -EINVAL);

    o = base_options();
    o.struct_size = 0; // not started from IPCHUB_CLIENT_OPTIONS_INIT
    Attempt unset = connect_with(o);
    CHECK(unset.rc == -EINVAL);
    CHECK(unset.err.find("IPCHUB_CLIENT_OPTIONS_INIT") != std::string::npos);

    char err[64];
    CHECK(ipchub_client_connect(nullptr, nullptr, err, sizeof err) == -EINVAL);
    CHECK(ipchub_client_subscribe(nullptr, "x", err, sizeof err) == -EINVAL);
    CHECK(ipchub_client_publish(nullptr, "x", "", 0, err, sizeof err) == -EINVAL);
    ipchub_message *m = reinterpret_cast<ipchub_message *>(1);
    CHECK(ipchub_client_receive(nullptr, 0, &m, err, sizeof err) == -EINVAL);
    ipchub_client_close(nullptr);
    ipchub_message_free(nullptr);
}

TEST_CASE("client-c: an older caller's shorter options struct gets defaults for the rest") {
    // A program built when the options ended at `backend`: the library must
    // not read config_path & co. beyond its struct_size (they hold garbage here).
    struct {
        ipchub_client_options o;
    } older{};
    older.o.struct_size = uint32_t(offsetof(ipchub_client_options, backend) + sizeof(const char *));
    older.o.backend = "carrier-pigeon";
    older.o.instance = reinterpret_cast<const char *>(0x1);    // garbage: must be ignored
    older.o.config_path = reinterpret_cast<const char *>(0x1); // garbage: must be ignored
    // The default config is found through the environment (ctest runs each
    // test case in a process of its own, so this leaks nowhere).
    ::setenv("IPCHUB_CONFIG", build_config().c_str(), 1);
    char err[512] = "";
    ipchub_client *c = nullptr;
    int rc = ipchub_client_connect(&older.o, &c, err, sizeof err);
    CHECK(rc == -ENOPROTOOPT);
    CHECK(std::string(err).find("unknown backend 'carrier-pigeon'") != std::string::npos);
    CHECK(c == nullptr);
}
