// The plugin registry (sdk/src/plugin_registry.*) and plugins.json parsing
// against deliberately broken plugins (tests/plugins/): every refusal is one
// line that names the file and the reason, never a crash.
#include "config.hpp"
#include "paths.hpp"
#include "plugin_registry.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace ipchub;

namespace {

const std::string kTestDir = IPCHUB_TEST_PLUGIN_DIR;

PluginSpec spec(const std::string &name, const std::string &file = "") {
    PluginSpec s;
    s.name = name;
    s.file = file.empty() ? "libipchub-test-" + name + ".so" : file;
    return s;
}

bool has(const std::string &text, const std::string &needle) { return text.find(needle) != std::string::npos; }

// Loads one test plugin and returns the error (must fail).
std::string refusal(const PluginSpec &s) {
    PluginLoad load = load_plugin(s, kTestDir);
    CHECK_FALSE(load.plugin);
    INFO(load.error);
    CHECK(has(load.error, "plugin '" + s.name + "'"));
    CHECK(has(load.error, resolve_plugin_path(kTestDir, s.file)));
    return load.error;
}

HubConfig config_with(const std::string &plugins_json) {
    return parse_config("{\"plugins\": [" + plugins_json + "]}", "test-plugins.json");
}

} // namespace

TEST_CASE("registry: a good plugin loads and its table is complete") {
    PluginLoad load = load_plugin(spec("stub"), kTestDir);
    REQUIRE_MESSAGE(load.plugin, load.error);
    CHECK(load.plugin->name() == "stub");
    CHECK(load.plugin->declared_abi() == IPCHUB_ABI_VERSION);
    CHECK(bool(load.plugin->api().hub_send));
    CHECK_FALSE(bool(load.plugin->api().sweep)); // optional and absent
}

TEST_CASE("registry: a missing file is refused with dlopen's reason") {
    std::string e = refusal(spec("ghost", "libipchub-test-does-not-exist.so"));
    CHECK(has(e, "cannot load"));
    CHECK(has(e, "No such file"));
}

TEST_CASE("registry: a shared object without the entry symbol is refused") {
    std::string e = refusal(spec("noentry"));
    CHECK(has(e, "no entry point"));
    CHECK(has(e, IPCHUB_PLUGIN_ENTRY_SYMBOL));
}

TEST_CASE("registry: an entry point that returns NULL is refused") {
    std::string e = refusal(spec("nulltable"));
    CHECK(has(e, "returned no plugin table"));
}

TEST_CASE("registry: a table too small for ABI 1.0 is refused") {
    std::string e = refusal(spec("tiny"));
    CHECK(has(e, "plugin table of 16 bytes is smaller than"));
}

TEST_CASE("registry: a table without a required member is refused") {
    std::string e = refusal(spec("missing"));
    CHECK(has(e, "plugin table has no hub_send"));
}

TEST_CASE("registry: a plugin whose name differs from plugins.json is refused") {
    std::string e = refusal(spec("named"));
    CHECK(has(e, "calls itself 'impostor'"));
    CHECK(has(e, "plugins.json names it 'named'"));
}

TEST_CASE("registry: load_enabled_plugins skips disabled, reports duplicates, marks required failures fatal") {
    HubConfig cfg = config_with(R"(
        {"name": "stub", "file": "libipchub-test-stub.so"},
        {"name": "stub", "file": "libipchub-test-stub.so"},
        {"name": "noentry", "file": "libipchub-test-noentry.so", "enabled": false},
        {"name": "major2", "file": "libipchub-test-major2.so"})");
    PluginSetLoad set = load_enabled_plugins(cfg, kTestDir);
    REQUIRE(set.plugins.size() == 1);
    CHECK(set.plugins[0]->name() == "stub");
    REQUIRE(set.skipped.size() == 2); // the duplicate and major2; the disabled one is not even opened
    CHECK(has(set.skipped[0], "duplicate name"));
    CHECK(has(set.skipped[1], "plugin 'major2'"));
    CHECK_FALSE(set.fatal); // nothing required failed

    HubConfig required = config_with(R"({"name": "tiny", "file": "libipchub-test-tiny.so", "required": true},
                                        {"name": "stub", "file": "libipchub-test-stub.so"})");
    PluginSetLoad fatal = load_enabled_plugins(required, kTestDir);
    CHECK(fatal.fatal);
    CHECK(fatal.plugins.size() == 1);
}

TEST_CASE("registry: load_backend names unknown and disabled backends and what is on offer") {
    HubConfig cfg = config_with(R"({"name": "stub", "file": "libipchub-test-stub.so"},
                                   {"name": "named", "file": "libipchub-test-named.so", "enabled": false})");
    PluginLoad unknown = load_backend(cfg, kTestDir, "carrier-pigeon");
    CHECK_FALSE(unknown.plugin);
    CHECK(has(unknown.error, "unknown backend 'carrier-pigeon'"));
    CHECK(has(unknown.error, "test-plugins.json offers: stub"));
    PluginLoad disabled = load_backend(cfg, kTestDir, "named");
    CHECK_FALSE(disabled.plugin);
    CHECK(has(disabled.error, "backend 'named' is disabled in test-plugins.json"));
    PluginLoad good = load_backend(cfg, kTestDir, "stub");
    CHECK_MESSAGE(good.plugin, good.error);
}

TEST_CASE("registry: invalid JSON in plugins.json names the file, line and column") {
    std::string text = "{\n  \"plugins\": [\n    {\"name\": \"socket\",}\n  ]\n}\n";
    try {
        parse_config(text, "/etc/broken.json");
        FAIL("no error for invalid JSON");
    } catch (const ConfigError &e) {
        std::string m = e.what();
        INFO(m);
        CHECK(has(m, "/etc/broken.json: invalid JSON at line 3, column"));
    }
}

TEST_CASE("registry: a value of the wrong type names its key path") {
    auto error_of = [](const std::string &text) {
        try {
            parse_config(text, "cfg.json");
        } catch (const ConfigError &e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    CHECK(has(error_of(R"({"plugins": [{"name": "socket", "enabled": "yes"}]})"),
              "cfg.json: plugins[0].enabled: expected true or false, got string"));
    CHECK(has(error_of(R"({"plugins": [{"name": "a"}, {"name": "b", "config": []}]})"),
              "cfg.json: plugins[1].config: expected an object, got array"));
    CHECK(has(error_of(R"({"plugins": {}})"), "cfg.json: plugins: expected an array, got object"));
    CHECK(has(error_of(R"({"plugins": [], "hub": {"max_message_size": "big"}})"),
              "cfg.json: hub.max_message_size: expected a whole number, got string"));
}

TEST_CASE("registry: a search path is searched in order, first match wins; a miss names every directory") {
    CHECK(split_search_path("a::b:a:") == std::vector<std::string>{"a", "b"});
    CHECK(join_search_path({"a", "b"}) == "a:b");
    const std::string path = "/nonexistent-dir:" + kTestDir;
    CHECK(resolve_plugin_path(path, "libipchub-test-stub.so") == kTestDir + "/libipchub-test-stub.so");
    CHECK(resolve_plugin_path(kTestDir + ":/nonexistent-dir", "libipchub-test-stub.so") ==
          kTestDir + "/libipchub-test-stub.so");
    CHECK(resolve_plugin_path(path, "/abs/file.so") == "/abs/file.so");
    CHECK(resolve_plugin_path(path, "ghost.so") == "/nonexistent-dir/ghost.so");
    PluginLoad stub = load_plugin(spec("stub"), path);
    CHECK_MESSAGE(stub.plugin, stub.error);
    PluginLoad ghost = load_plugin(spec("ghost"), path);
    CHECK(has(ghost.error, "(looked in " + path + ")"));
}

TEST_CASE("registry: --plugin-dir first, then plugins.json's plugin_dirs, then the default directory last") {
    HubConfig cfg = parse_config(R"({"plugin_dirs": ["/from-config"], "plugins": []})", "/etc/plugins.json");
    std::vector<std::string> dirs = split_search_path(plugin_search_path(cfg, "/given-1:/given-2"));
    REQUIRE(dirs.size() >= 4);
    CHECK(dirs[0] == "/given-1");
    CHECK(dirs[1] == "/given-2");
    CHECK(dirs[2] == "/from-config");
    CHECK(dirs.back() == split_search_path(default_plugin_dir()).back());
}

TEST_CASE("registry: a plugin declaring a max_frame_size below IPCHUB_MIN_FRAME_SIZE is refused") {
    std::string e = refusal(spec("seqpacket-small"));
    CHECK(has(e, "declares max_frame_size 1024, below IPCHUB_MIN_FRAME_SIZE (8192)"));
    PluginLoad good = load_plugin(spec("seqpacket"), kTestDir);
    REQUIRE_MESSAGE(good.plugin, good.error);
    CHECK(good.plugin->api().max_frame_size == 8192);
    CHECK(good.plugin->api().capabilities == IPCHUB_CAP_MESSAGE_BOUNDARIES);
}
