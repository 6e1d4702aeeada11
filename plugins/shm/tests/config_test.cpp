// The shm transport's object in plugins.json (config.hpp): the default, the
// one known key, and refusals that name what is wrong.
#include "config.hpp"
#include "ring.hpp"

#include <doctest/doctest.h>

#include <cerrno>
#include <string>

using ipchub::shm::Config;
using ipchub::shm::parse_config;

namespace {
struct Parsed {
    int rc;
    Config config;
    std::string err;
};
Parsed parse(const char *json) {
    Parsed p{};
    char err[256] = "";
    p.rc = parse_config(json, p.config, err, sizeof err);
    p.err = err;
    return p;
}
} // namespace

TEST_CASE("config: absent or empty means 1 MiB rings") {
    for (const char *json : {static_cast<const char *>(nullptr), "", "{}"}) {
        Parsed p = parse(json);
        CHECK(p.rc == 0);
        CHECK(p.config.ring_bytes == ipchub::shm::kDefaultRingBytes);
    }
    CHECK(ipchub::shm::kDefaultRingBytes == 1024 * 1024);
}

TEST_CASE("config: ring_bytes takes every power of two in range") {
    CHECK(parse("{\"ring_bytes\": 4096}").config.ring_bytes == 4096);
    CHECK(parse("{\"ring_bytes\": 1073741824}").config.ring_bytes == ipchub::shm::kMaxRingBytes);
}

TEST_CASE("config: ring_bytes out of range, not a power of two or not a number is refused with the value") {
    for (const char *json : {"{\"ring_bytes\": 2048}", "{\"ring_bytes\": 2147483648}", "{\"ring_bytes\": 5000}",
                             "{\"ring_bytes\": -4096}", "{\"ring_bytes\": \"4096\"}", "{\"ring_bytes\": 4096.5}"}) {
        CAPTURE(json);
        Parsed p = parse(json);
        CHECK(p.rc == -EINVAL);
        CHECK(p.err.find("ring_bytes must be a power of two from 4096 to 1073741824") != std::string::npos);
    }
    CHECK(parse("{\"ring_bytes\": 5000}").err.find("(got 5000)") != std::string::npos);
}

TEST_CASE("config: an unknown key is named, with the known ones") {
    Parsed p = parse("{\"ring_bytes\": 4096, \"ringbytes\": 1}");
    CHECK(p.rc == -EINVAL);
    CHECK(p.err == "unknown config key \"ringbytes\" (known: ring_bytes)");
}

TEST_CASE("config: not an object, or not JSON, is refused") {
    Parsed array = parse("[1]");
    CHECK(array.rc == -EINVAL);
    CHECK(array.err == "config must be a JSON object");
    Parsed broken = parse("{\"ring_bytes\": ");
    CHECK(broken.rc == -EINVAL);
    CHECK(broken.err.rfind("config is not valid JSON: ", 0) == 0);
}
