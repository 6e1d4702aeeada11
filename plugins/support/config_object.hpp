// A plugin's "config" object from plugins.json (ipchub_hub_params /
// ipchub_client_params .config_json), checked against the keys the plugin
// knows. Every stock transport rejects a key it does not know, naming it and
// the ones it allows: a typo ("pipe_sise") must fail hub_init loudly rather
// than silently run with the default.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace ipchub::plugin {

using AllowedKeys = std::initializer_list<std::string_view>;

// "comment" is allowed in every object, as everywhere in plugins.json.
inline constexpr std::string_view kCommentKey = "comment";

// Checks that every key of `object` is in `allowed` (or "comment"). On
// failure returns false with `error` set to
//   <where>: unknown key "<key>" (allowed: a, b, comment)
// naming the first unknown key in the object's order.
bool check_keys(const nlohmann::json &object, AllowedKeys allowed, std::string_view where, std::string &error);

// Parses `text` (NULL or "" mean "{}") into `out`: it must be a JSON object
// whose keys are all in `allowed` (check_keys with where = "config"). On
// failure returns false with `error` set (not JSON, not an object, or the
// unknown key).
bool parse_config_object(const char *text, AllowedKeys allowed, nlohmann::json &out, std::string &error);

// Reads `object[key]` when present: a whole number from `lo` to `hi`. Absent:
// true, `out` untouched. Otherwise false with `error` set to
//   <where>: "<key>" must be a whole number from <lo> to <hi>
bool read_whole_number(const nlohmann::json &object, std::string_view key, int64_t lo, int64_t hi, int64_t &out,
                       std::string &error, std::string_view where = "config");

// The same for any integer member type (uint32_t, long, ...); lo and hi must
// fit in T.
template <typename T>
bool read_whole_number(const nlohmann::json &object, std::string_view key, int64_t lo, int64_t hi, T &out,
                       std::string &error, std::string_view where = "config") {
    int64_t value = int64_t(out);
    if (!read_whole_number(object, key, lo, hi, value, error, where)) return false;
    out = T(value);
    return true;
}

} // namespace ipchub::plugin
