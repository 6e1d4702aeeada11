// plugins.json parsing and validation (sdk/src/config.*).
#include "config.hpp"

#include <doctest/doctest.h>

using namespace ipchub;

namespace {
std::string error_of(const std::string &text) {
    try {
        parse_config(text, "test.json");
    } catch (const ConfigError &e) {
        return e.what();
    }
    return "";
}
} // namespace

TEST_CASE("config: a full file") {
    auto cfg = parse_config(R"({
        "hub": {"max_message_size": 2048, "subscriber_backlog_bytes": 65536, "file_mode": "0660", "shutdown_drain_ms": 10,
                "spin_us": 50},
        "plugins": [
            {"name": "socket", "file": "libipchub-socket.so", "enabled": true, "required": true, "config": {"a": 1}},
            {"name": "fifo", "enabled": false}
        ]})", "x.json");
    CHECK(cfg.hub.max_message_size == 2048);
    CHECK(cfg.hub.subscriber_backlog_bytes == 65536);
    CHECK(cfg.hub.file_mode == 0660);
    CHECK(cfg.hub.shutdown_drain_ms == 10);
    CHECK(cfg.hub.spin_us == 50);
    REQUIRE(cfg.plugins.size() == 2);
    CHECK(cfg.plugins[0].required);
    CHECK(cfg.plugins[0].config_json == R"({"a":1})");
    CHECK(cfg.plugins[1].file == "libipchub-fifo.so"); // default file name
    CHECK_FALSE(cfg.plugins[1].enabled);
    CHECK(cfg.plugin_names() == "socket");
    CHECK(cfg.find("fifo") != nullptr);
    CHECK(cfg.find("nope") == nullptr);
}

TEST_CASE("config: defaults") {
    auto cfg = parse_config(R"({"plugins": [{"name": "socket"}]})", "");
    CHECK(cfg.hub.max_message_size == 1024 * 1024);
    CHECK(cfg.hub.file_mode == 0600);
    CHECK(cfg.hub.spin_us == 0); // never spin unless asked
    CHECK(cfg.plugins[0].enabled);
    CHECK_FALSE(cfg.plugins[0].required);
    CHECK(cfg.plugins[0].config_json == "{}");
}

TEST_CASE("config: invalid JSON names the line and column") {
    std::string e = error_of("{\n  \"plugins\": [\n    {\"name\": \"socket\",}\n  ]\n}");
    CHECK(e.find("test.json: invalid JSON at line 3") != std::string::npos);
}

TEST_CASE("config: wrong types name the key path and what was expected") {
    CHECK(error_of(R"({"plugins": [{"name": "socket", "enabled": "yes"}]})") ==
          "test.json: plugins[0].enabled: expected true or false, got string");
    CHECK(error_of(R"({"plugins": {}})") == "test.json: plugins: expected an array, got object");
    CHECK(error_of(R"({"plugins": [{"name": 5}]})") == "test.json: plugins[0].name: expected a string, got number");
    CHECK(error_of(R"({"plugins": [{"name": "a", "config": []}]})") ==
          "test.json: plugins[0].config: expected an object, got array");
    CHECK(error_of(R"({"plugins": [], "hub": {"max_message_size": -1}})") ==
          "test.json: hub.max_message_size: expected a whole number, got number");
    CHECK(error_of(R"({"plugins": [], "hub": {"file_mode": "rw"}})").find("not an octal mode") != std::string::npos);
    CHECK(error_of(R"({"plugins": [], "hub": {"spin_us": "fast"}})") ==
          "test.json: hub.spin_us: expected a whole number, got string");
    CHECK(error_of(R"({"plugins": [], "hub": {"spin_us": 1000001}})") ==
          "test.json: hub.spin_us: value 1000001 out of range 0..1000000");
}

TEST_CASE("config: missing and unknown keys") {
    CHECK(error_of(R"({})") == "test.json: top level: missing \"plugins\" (a list of transports)");
    CHECK(error_of(R"({"plugins": [{"file": "x.so"}]})") == "test.json: plugins[0]: missing \"name\"");
    CHECK(error_of(R"({"plugins": [{"name": "a", "enabeld": true}]})").find("plugins[0].enabeld: unknown key") !=
          std::string::npos);
    CHECK(error_of(R"({"plugins": [], "hub": {"max_msg": 1}})") == "test.json: hub.max_msg: unknown setting");
    CHECK(error_of(R"([])") == "test.json: top level: expected an object, got array");
}

TEST_CASE("config: plugin_dirs are relative to the config file's folder; absolute ones kept") {
    auto cfg = parse_config(R"({"plugin_dirs": ["third-party", "/opt/ipchub/plugins", "../x"], "plugins": []})",
                            "/etc/ipchub/plugins.json");
    CHECK(cfg.plugin_dirs == std::vector<std::string>{"/etc/ipchub/third-party", "/opt/ipchub/plugins", "/etc/ipchub/../x"});
    CHECK(parse_config(R"({"plugin_dirs": ["p"], "plugins": []})", "plugins.json").plugin_dirs ==
          std::vector<std::string>{"./p"});
    CHECK(parse_config(R"({"plugin_dirs": ["p"], "plugins": []})", "/plugins.json").plugin_dirs ==
          std::vector<std::string>{"/p"});
    CHECK(parse_config(R"({"plugins": []})", "x.json").plugin_dirs.empty());
}

TEST_CASE("config: bad plugin_dirs are refused with the place and the reason") {
    CHECK(error_of(R"({"plugin_dirs": "dir", "plugins": []})") ==
          "test.json: plugin_dirs: expected an array of directory names, got string");
    CHECK(error_of(R"({"plugin_dirs": [3], "plugins": []})") == "test.json: plugin_dirs[0]: expected a string, got number");
    CHECK(error_of(R"({"plugin_dirs": ["a", ""], "plugins": []})") == "test.json: plugin_dirs[1]: empty directory name");
    CHECK(error_of(R"({"plugin_dirs": ["a:b"], "plugins": []})") ==
          "test.json: plugin_dirs[0]: a ':' cannot be used: it separates plugin search paths");
}

TEST_CASE("config: values the JSON parser itself refuses name the file and the key, never an exception id") {
    CHECK(error_of(R"({"plugins": [], "hub": {"spin_us": 1e400}})") ==
          "test.json: hub.spin_us: invalid value: number overflow parsing '1e400'");
    CHECK(error_of(R"({"plugins": [{"name": "a", "config": {"x": [1, 2, -1e999]}}]})") ==
          "test.json: plugins[0].config.x[2]: invalid value: number overflow parsing '-1e999'");
    CHECK(error_of("1e400") == "test.json: top level: invalid value: number overflow parsing '1e400'");
    CHECK(error_of(R"({"plugins": [], "hub": {"spin_us": 1.5}})") ==
          "test.json: hub.spin_us: expected a whole number, got number");
    CHECK(error_of(R"({"plugins": [], "hub": {"max_message_size": 18446744073709551616}})").find("hub.max_message_size") !=
          std::string::npos);
}

TEST_CASE("config: the hub's budgets against hostile clients: defaults and values and errors naming the key") {
    HubConfig d = parse_config(R"({"plugins": []})", "test.json");
    CHECK(d.hub.max_connections == 4096);
    CHECK(d.hub.max_connections_per_uid == 1024);
    CHECK(d.hub.hello_timeout_ms == 10000);
    CHECK(d.hub.max_partial_bytes_total == (128u << 20));
    CHECK(d.hub.max_backlog_bytes_total == (256u << 20));
    CHECK(d.hub.max_subscriptions_per_connection == 10000);
    CHECK(d.hub.max_channels == 100000);
    CHECK(d.hub.stats_per_second == 20);
    HubConfig c = parse_config(R"({"plugins": [], "hub": {"max_connections": 10, "max_connections_per_uid": 5,
        "hello_timeout_ms": 500, "max_partial_bytes_total": 2000000, "max_backlog_bytes_total": 99999,
        "max_subscriptions_per_connection": 7, "max_channels": 8, "stats_per_second": 2}})",
                               "test.json");
    CHECK(c.hub.max_connections == 10);
    CHECK(c.hub.max_connections_per_uid == 5);
    CHECK(c.hub.hello_timeout_ms == 500);
    CHECK(c.hub.max_partial_bytes_total == 2000000);
    CHECK(c.hub.max_backlog_bytes_total == 99999);
    CHECK(c.hub.max_subscriptions_per_connection == 7);
    CHECK(c.hub.max_channels == 8);
    CHECK(c.hub.stats_per_second == 2);
    CHECK(error_of(R"({"plugins": [], "hub": {"max_connections": 0}})") ==
          "test.json: hub.max_connections: value 0 out of range 1..1048576");
    CHECK(error_of(R"({"plugins": [], "hub": {"hello_timeout_ms": "soon"}})") ==
          "test.json: hub.hello_timeout_ms: expected a whole number, got string");
    // The partial-frame budget must hold one frame of the largest size.
    CHECK(error_of(R"({"plugins": [], "hub": {"max_partial_bytes_total": 1000}})").find("hub.max_partial_bytes_total") !=
          std::string::npos);
    HubConfig big = parse_config(R"({"plugins": [], "hub": {"max_message_size": 134217728}})", "test.json");
    CHECK(big.hub.max_partial_bytes_total >= 2ull * 134217728);
}
