// ABI negotiation (docs/plugin-guide.md, "Versioning"): what the registry
// does with tables from other ABI versions. The end-to-end half (an old and a
// new table actually carrying messages through a hub) is in
// integration/test_registry_hub.cpp.
#include "plugin_registry.hpp"

#include <doctest/doctest.h>

#include <cstring>
#include <string>

using namespace ipchub;

namespace {

const std::string kTestDir = IPCHUB_TEST_PLUGIN_DIR;

PluginSpec spec(const std::string &name) {
    PluginSpec s;
    s.name = name;
    s.file = "libipchub-test-" + name + ".so";
    return s;
}

// The ABI 1.0 table: everything up to client_close (LP64: 136 bytes).
constexpr size_t kTable_1_0 = offsetof(ipchub_plugin, client_close) + sizeof(void *);

} // namespace

TEST_CASE("abi: a plugin that declares a future major version is refused with both versions named") {
    PluginLoad load = load_plugin(spec("major2"), kTestDir);
    REQUIRE_FALSE(load.plugin);
    INFO(load.error);
    CHECK(load.error.find("plugin 'major2' (" + kTestDir + "/libipchub-test-major2.so)") != std::string::npos);
    const std::string ours = std::to_string(IPCHUB_ABI_VERSION_MAJOR) + "." + std::to_string(IPCHUB_ABI_VERSION_MINOR);
    CHECK(load.error.find("built for plugin ABI 2.0 but this ipchub speaks ABI " + ours) != std::string::npos);
    CHECK(load.error.find("rebuild the plugin against the ipchub 1.x SDK headers") != std::string::npos);
}

TEST_CASE("abi: a 1.0-sized table loads and nothing beyond its struct_size is copied") {
    PluginLoad load = load_plugin(spec("abi-old"), kTestDir);
    REQUIRE_MESSAGE(load.plugin, load.error);
    const LoadedPlugin &p = *load.plugin;
    CHECK(p.declared_size() == kTable_1_0);
    CHECK(p.declared_abi() == IPCHUB_MAKE_ABI_VERSION(1, 0));
    CHECK(p.api().struct_size == kTable_1_0);
    // Poison function pointers follow the plugin's table in its memory. Every
    // byte of the hub's copy past the declared size must be zero (today's
    // header is the 1.0 table, so this range is empty until 1.1 appends
    // members; then it becomes the check that they read as NULL).
    const auto *bytes = reinterpret_cast<const unsigned char *>(&p.api());
    for (size_t i = kTable_1_0; i < sizeof(ipchub_plugin); ++i) CHECK(bytes[i] == 0);
    CHECK(IPCHUB_HAS_MEMBER(&p.api(), ipchub_plugin, client_close));
}

TEST_CASE("abi: a table from a newer minor version loads; the hub keeps only what it knows") {
    PluginLoad load = load_plugin(spec("abi-new"), kTestDir);
    REQUIRE_MESSAGE(load.plugin, load.error);
    const LoadedPlugin &p = *load.plugin;
    CHECK(IPCHUB_ABI_MINOR(p.declared_abi()) == IPCHUB_ABI_VERSION_MINOR + 1);
    CHECK(p.declared_size() == sizeof(ipchub_plugin) + 2 * sizeof(void *));
    // The copy is clamped to the hub's struct: members it does not know (the
    // plugin's poison) cannot even be reached through api().
    CHECK(p.api().struct_size == sizeof(ipchub_plugin));
    CHECK(bool(p.api().client_close));
}

TEST_CASE("abi: IPCHUB_HAS_MEMBER follows struct_size") {
    ipchub_plugin t{};
    t.struct_size = uint32_t(offsetof(ipchub_plugin, sweep));
    CHECK_FALSE(IPCHUB_HAS_MEMBER(&t, ipchub_plugin, sweep));
    CHECK(IPCHUB_HAS_MEMBER(&t, ipchub_plugin, hub_cleanup));
    t.struct_size = sizeof t;
    CHECK(IPCHUB_HAS_MEMBER(&t, ipchub_plugin, client_close));
}
