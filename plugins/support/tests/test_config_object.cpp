#include "config_object.hpp"

#include <doctest/doctest.h>

using namespace ipchub::plugin;

TEST_CASE("config_object: an unknown key is an error naming it and the allowed ones") {
    nlohmann::json j;
    std::string error;
    CHECK_FALSE(parse_config_object(R"({"pipe_size": 1, "pipe_sise": 2})", {"pipe_size", "handshake_timeout_ms"}, j, error));
    CHECK(error == R"(config: unknown key "pipe_sise" (allowed: pipe_size, handshake_timeout_ms, comment))");
}

TEST_CASE("config_object: no allowed keys still rejects every key but comment") {
    nlohmann::json j;
    std::string error;
    CHECK(parse_config_object(R"({"comment": "free text"})", {}, j, error));
    CHECK_FALSE(parse_config_object(R"({"bogus": 1})", {}, j, error));
    CHECK(error == R"(config: unknown key "bogus" (allowed: comment))");
}

TEST_CASE("config_object: not JSON or not an object is an error, NULL and empty are {}") {
    nlohmann::json j;
    std::string error;
    CHECK_FALSE(parse_config_object("{", {"a"}, j, error));
    CHECK(error == "config is not valid JSON");
    CHECK_FALSE(parse_config_object("[1]", {"a"}, j, error));
    CHECK(error == "config must be a JSON object, not array");
    CHECK(parse_config_object(nullptr, {"a"}, j, error));
    CHECK(j == nlohmann::json::object());
    CHECK(parse_config_object("", {"a"}, j, error));
    CHECK(parse_config_object(R"({"a": 3})", {"a"}, j, error));
    CHECK(j["a"] == 3);
}

TEST_CASE("config_object: check_keys names where the object is") {
    std::string error;
    CHECK_FALSE(check_keys(nlohmann::json{{"user", "root"}}, {"name"}, "children[0]", error));
    CHECK(error == R"(children[0]: unknown key "user" (allowed: name, comment))");
}

TEST_CASE("config_object: whole numbers within a range") {
    auto j = nlohmann::json::parse(R"({"n": 5, "neg": -1, "big": 18446744073709551615, "text": "5", "frac": 1.5})");
    std::string error;
    uint32_t out = 7;
    CHECK(read_whole_number(j, "absent", 0, 10, out, error));
    CHECK(out == 7);
    CHECK(read_whole_number(j, "n", 0, 10, out, error));
    CHECK(out == 5);
    CHECK_FALSE(read_whole_number(j, "n", 6, 10, out, error));
    CHECK(error == R"(config: "n" must be a whole number from 6 to 10)");
    long l = 0;
    CHECK_FALSE(read_whole_number(j, "neg", 0, 10, l, error));
    CHECK(read_whole_number(j, "neg", -5, 10, l, error));
    CHECK(l == -1);
    CHECK_FALSE(read_whole_number(j, "big", 0, INT64_MAX, l, error));
    CHECK_FALSE(read_whole_number(j, "text", 0, 10, out, error));
    CHECK_FALSE(read_whole_number(j, "frac", 0, 10, out, error));
    CHECK(out == 5);
}
