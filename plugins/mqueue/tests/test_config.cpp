#include "config.hpp"
#include "hub.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <string>

using namespace ipchub::mqueue;

TEST_CASE("config: sizes within limits, unknown keys refused by name") {
    QueueSize size;
    std::string error;
    CHECK(parse_config(nullptr, size, error));
    CHECK(size.max_messages == 8);
    CHECK(parse_config(R"({"max_messages": 4, "message_size": 4096})", size, error));
    CHECK(size.max_messages == 4);
    CHECK(size.message_size == 4096);
    CHECK_FALSE(parse_config(R"({"message_size": 63})", size, error));
    CHECK(error.find("\"message_size\" must be a whole number from 64 to") != std::string::npos);
    CHECK_FALSE(parse_config(R"({"max_mesages": 4})", size, error));
    CHECK(error == R"(config: unknown key "max_mesages" (allowed: max_messages, message_size, comment))");
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
