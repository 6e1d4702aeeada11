#include "config_object.hpp"

namespace ipchub::plugin {

bool check_keys(const nlohmann::json &object, AllowedKeys allowed, std::string_view where, std::string &error) {
    for (const auto &item : object.items()) {
        const std::string &key = item.key();
        if (key == kCommentKey) continue;
        bool known = false;
        for (std::string_view a : allowed) known = known || key == a;
        if (known) continue;
        error = std::string(where) + ": unknown key \"" + key + "\" (allowed: ";
        for (std::string_view a : allowed) error += std::string(a) + ", ";
        error += std::string(kCommentKey) + ")";
        return false;
    }
    return true;
}

bool parse_config_object(const char *text, AllowedKeys allowed, nlohmann::json &out, std::string &error) {
    nlohmann::json j = nlohmann::json::parse(text && *text ? text : "{}", nullptr, false);
    if (j.is_discarded()) {
        error = "config is not valid JSON";
        return false;
    }
    if (!j.is_object()) {
        error = std::string("config must be a JSON object, not ") + j.type_name();
        return false;
    }
    if (!check_keys(j, allowed, "config", error)) return false;
    out = std::move(j);
    return true;
}

bool read_whole_number(const nlohmann::json &object, std::string_view key, int64_t lo, int64_t hi, int64_t &out,
                       std::string &error, std::string_view where) {
    auto it = object.find(key);
    if (it == object.end()) return true;
    bool in_range = false;
    int64_t value = 0;
    if (it->is_number_unsigned()) {
        uint64_t v = it->get<uint64_t>();
        in_range = v <= uint64_t(INT64_MAX);
        value = int64_t(v);
    } else if (it->is_number_integer()) {
        in_range = true;
        value = it->get<int64_t>();
    }
    in_range = in_range && value >= lo && value <= hi;
    if (!in_range) {
        error = std::string(where) + ": \"" + std::string(key) + "\" must be a whole number from " + std::to_string(lo) +
                " to " + std::to_string(hi);
        return false;
    }
    out = value;
    return true;
}

} // namespace ipchub::plugin
