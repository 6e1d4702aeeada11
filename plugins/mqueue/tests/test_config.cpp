#include "config.hpp"
#include "hub.hpp"

#include "testing/hub_init_probe.hpp"

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
    auto r = ipchub::plugin::testing::probe_hub_init(ipchub::mqueue::hub_init, ipchub::mqueue::hub_cleanup, R"({"bogus":1})");
    CHECK(r.rc == -EINVAL);
    CHECK_FALSE(r.state_set);
    CHECK(r.error.find("unknown key \"bogus\"") != std::string::npos);
}
