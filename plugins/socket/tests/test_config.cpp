#include "config.hpp"
#include "hub.hpp"

#include "testing/hub_init_probe.hpp"

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
    auto r = ipchub::plugin::testing::probe_hub_init(ipchub::socket::hub_init, ipchub::socket::hub_cleanup, R"({"bogus":1})");
    CHECK(r.rc == -EINVAL);
    CHECK_FALSE(r.state_set);
    CHECK(r.error.find("unknown key \"bogus\"") != std::string::npos);
}
