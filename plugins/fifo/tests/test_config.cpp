#include "config.hpp"
#include "hub.hpp"

#include "testing/hub_init_probe.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <string>

using namespace ipchub::fifo;

TEST_CASE("config: defaults, ranges, and unknown keys refused by name") {
    FifoConfig config;
    std::string error;
    CHECK(parse_config("{}", config, error));
    CHECK(config.pipe_size == 1024 * 1024);
    CHECK(parse_config(R"({"pipe_size": 0, "handshake_timeout_ms": 100, "comment": "x"})", config, error));
    CHECK(config.pipe_size == 0);
    CHECK(config.handshake_timeout_ms == 100);
    CHECK_FALSE(parse_config(R"({"handshake_timeout_ms": 99})", config, error));
    CHECK(error.find("\"handshake_timeout_ms\" must be a whole number from 100 to 600000") != std::string::npos);
    CHECK_FALSE(parse_config(R"({"pipe_sise": 4096})", config, error));
    CHECK(error == R"(config: unknown key "pipe_sise" (allowed: pipe_size, handshake_timeout_ms, max_pending_registrations, comment))");
    CHECK(config.max_pending_registrations == 64);
    CHECK(parse_config(R"({"max_pending_registrations": 1})", config, error));
    CHECK(config.max_pending_registrations == 1);
    CHECK_FALSE(parse_config(R"({"max_pending_registrations": 0})", config, error));
    CHECK(error.find("\"max_pending_registrations\" must be a whole number from 1 to 65536") != std::string::npos);
}

TEST_CASE("config: hub_init fails with a config the transport does not know") {
    auto r = ipchub::plugin::testing::probe_hub_init(ipchub::fifo::hub_init, ipchub::fifo::hub_cleanup, R"({"bogus":1})");
    CHECK(r.rc == -EINVAL);
    CHECK_FALSE(r.state_set);
    CHECK(r.error.find("unknown key \"bogus\"") != std::string::npos);
}
