// The shm transport's object in plugins.json (config.hpp): the default, the
// one known key, and refusals that name what is wrong.
#include "config.hpp"
#include "ring.hpp"

#include <doctest/doctest.h>

#include <string>

using ipchub::shm::Config;
using ipchub::shm::parse_config;

namespace {
struct Parsed {
    bool ok;
    Config config;
    std::string err;
};
Parsed parse(const char *json) {
    Parsed p{};
    p.ok = parse_config(json, p.config, p.err);
    return p;
}
} // namespace

TEST_CASE("config: absent or empty means 1 MiB rings") {
    for (const char *json : {static_cast<const char *>(nullptr), "", "{}"}) {
        Parsed p = parse(json);
        CHECK(p.ok);
        CHECK(p.config.ring_bytes == ipchub::shm::kDefaultRingBytes);
    }
    CHECK(ipchub::shm::kDefaultRingBytes == 1024 * 1024);
}

TEST_CASE("config: ring_bytes takes every power of two in range, next to a comment") {
    CHECK(parse("{\"ring_bytes\": 4096}").config.ring_bytes == 4096);
    CHECK(parse("{\"ring_bytes\": 1073741824}").config.ring_bytes == ipchub::shm::kMaxRingBytes);
    Parsed commented = parse("{\"comment\": \"small rings\", \"ring_bytes\": 65536}");
    CHECK(commented.ok);
    CHECK(commented.config.ring_bytes == 65536);
}

TEST_CASE("config: ring_bytes out of range, not a power of two or not a number is refused with the value") {
    for (const char *json : {"{\"ring_bytes\": 2048}", "{\"ring_bytes\": 2147483648}", "{\"ring_bytes\": 5000}",
                             "{\"ring_bytes\": -4096}", "{\"ring_bytes\": \"4096\"}", "{\"ring_bytes\": 4096.5}"}) {
        CAPTURE(json);
        Parsed p = parse(json);
        CHECK_FALSE(p.ok);
        CHECK(p.err.find("config ring_bytes must be a power of two from 4096 to 1073741824") != std::string::npos);
    }
    CHECK(parse("{\"ring_bytes\": 5000}").err.find("(got 5000)") != std::string::npos);
}

TEST_CASE("config: an unknown key is named, with the allowed ones") {
    Parsed p = parse("{\"ring_bytes\": 4096, \"ringbytes\": 1}");
    CHECK_FALSE(p.ok);
    CHECK(p.err == "config: unknown key \"ringbytes\" (allowed: ring_bytes, handshake_timeout_ms, "
                   "max_pending_handshakes, comment)");
}

TEST_CASE("config: not an object, or not JSON, is refused") {
    Parsed array = parse("[1]");
    CHECK_FALSE(array.ok);
    CHECK(array.err.rfind("config must be a JSON object", 0) == 0);
    Parsed broken = parse("{\"ring_bytes\": ");
    CHECK_FALSE(broken.ok);
    CHECK(broken.err.rfind("config is not valid JSON", 0) == 0);
}

TEST_CASE("config: handshake limits: defaults, values, and out-of-range values refused by key") {
    Parsed d = parse("{}");
    CHECK(d.config.handshake_timeout_ms == 5000);
    CHECK(d.config.max_pending_handshakes == 256);
    Parsed p = parse("{\"handshake_timeout_ms\": 250, \"max_pending_handshakes\": 8}");
    CHECK(p.ok);
    CHECK(p.config.handshake_timeout_ms == 250);
    CHECK(p.config.max_pending_handshakes == 8);
    for (const char *json : {"{\"handshake_timeout_ms\": 0}", "{\"handshake_timeout_ms\": 600001}",
                             "{\"max_pending_handshakes\": 0}", "{\"max_pending_handshakes\": 1.5}"}) {
        CAPTURE(json);
        Parsed bad = parse(json);
        CHECK_FALSE(bad.ok);
        CHECK(bad.err.find(std::string(json).substr(2, std::string(json).find('"', 2) - 2)) != std::string::npos);
    }
}
