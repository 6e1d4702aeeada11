#include "config.hpp"
#include "hub.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <string>

using namespace ipchub::socket;

TEST_CASE("config: an unknown key is refused by name") {
    SocketConfig config;
    std::string error;
    CHECK_FALSE(parse_config(R"({"bogus": 1})", config, error));
    CHECK(error == R"(config: unknown key "bogus" (allowed: comment))");
    CHECK(parse_config("{}", config, error));
    CHECK(parse_config(nullptr, config, error));
    CHECK(parse_config(R"({"comment": "none yet"})", config, error));
}

TEST_CASE("config: hub_init fails with a config the transport does not know") {
    ipchub_hub_params params{};
    params.abi_version = IPCHUB_ABI_VERSION;
    params.struct_size = sizeof params;
    params.instance = "t";
    params.runtime_dir = "/nonexistent";
    params.config_json = R"({"bogus":1})";
    params.file_mode = 0600;
    ipchub_host host{};
    void *state = nullptr;
    char err[256] = "";
    CHECK(hub_init(&host, &params, &state, err, sizeof err) == -EINVAL);
    CHECK(state == nullptr);
    CHECK(std::string(err).find("\"bogus\"") != std::string::npos);
}
