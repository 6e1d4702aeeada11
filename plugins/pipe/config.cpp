#include "config.hpp"

#include "config_object.hpp"

#include <nlohmann/json.hpp>

#include <set>

namespace ipchub::pipe {

namespace {

using nlohmann::json;

// Largest delay or timeout we accept: a day. Beyond that a typo is likelier
// than intent, and it keeps every sum of delays far from overflowing.
constexpr uint64_t kMaxMs = 24ull * 3600 * 1000;

struct Invalid {
    std::string text;
};

[[noreturn]] void fail(const std::string &where, const std::string &what) { throw Invalid{where + ": " + what}; }

bool valid_name(const std::string &name) {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                  c == '-';
        if (!ok) return false;
    }
    return true;
}

uint32_t milliseconds(const json &value, const std::string &where, uint64_t min) {
    if (!value.is_number_integer() && !value.is_number_unsigned())
        fail(where, "must be a whole number of milliseconds, not " + std::string(value.type_name()));
    if (value.is_number_integer() && value.get<int64_t>() < 0) fail(where, "must not be negative");
    uint64_t ms = value.get<uint64_t>();
    if (ms < min) fail(where, "must be at least " + std::to_string(min));
    if (ms > kMaxMs) fail(where, "must be at most " + std::to_string(kMaxMs) + " (one day)");
    return uint32_t(ms);
}

std::string text(const json &value, const std::string &where) {
    if (!value.is_string()) fail(where, "must be a string, not " + std::string(value.type_name()));
    return value.get<std::string>();
}

ChildSpec parse_child(const json &entry, const std::string &where) {
    if (!entry.is_object()) fail(where, "must be an object like {\"name\": ..., \"command\": ...}");
    std::string unknown;
    if (!plugin::check_keys(entry, {"name", "command", "restart", "backoff_initial_ms", "backoff_max_ms"}, where, unknown))
        throw Invalid{unknown};
    ChildSpec spec;
    bool has_name = false, has_command = false;
    for (auto &[key, value] : entry.items()) {
        std::string at = where + "." + key;
        if (key == "name") {
            spec.name = text(value, at);
            if (!valid_name(spec.name)) fail(at, "'" + spec.name + "' is not a valid name: use [A-Za-z0-9._-], 1-64 characters");
            has_name = true;
        } else if (key == "command") {
            spec.command = text(value, at);
            if (spec.command.find_first_not_of(" \t\n") == std::string::npos) fail(at, "must not be empty");
            if (spec.command.find('\0') != std::string::npos) fail(at, "must not contain NUL bytes");
            has_command = true;
        } else if (key == "restart") {
            std::string policy = text(value, at);
            if (policy == "never")
                spec.restart = RestartPolicy::never;
            else if (policy == "on-failure")
                spec.restart = RestartPolicy::on_failure;
            else if (policy == "always")
                spec.restart = RestartPolicy::always;
            else
                fail(at, "'" + policy + "' is not a restart policy: use \"never\", \"on-failure\" or \"always\"");
        } else if (key == "backoff_initial_ms") {
            spec.backoff_initial_ms = milliseconds(value, at, 1);
        } else if (key == "backoff_max_ms") {
            spec.backoff_max_ms = milliseconds(value, at, 1);
        }
    }
    if (!has_name) fail(where, "missing \"name\"");
    if (!has_command) fail(where, "missing \"command\"");
    if (spec.backoff_max_ms < spec.backoff_initial_ms)
        fail(where, "backoff_max_ms (" + std::to_string(spec.backoff_max_ms) + ") is smaller than backoff_initial_ms (" +
                        std::to_string(spec.backoff_initial_ms) + ")");
    return spec;
}

} // namespace

const char *restart_policy_name(RestartPolicy policy) {
    switch (policy) {
    case RestartPolicy::never: return "never";
    case RestartPolicy::on_failure: return "on-failure";
    case RestartPolicy::always: return "always";
    }
    return "?";
}

bool should_restart(RestartPolicy policy, bool exited_cleanly) {
    switch (policy) {
    case RestartPolicy::never: return false;
    case RestartPolicy::on_failure: return !exited_cleanly;
    case RestartPolicy::always: return true;
    }
    return false;
}

bool parse_pipe_config(const std::string &text_json, PipeConfig &out, std::string &error) {
    json root = json::parse(text_json, nullptr, false);
    if (root.is_discarded()) {
        error = "config is not valid JSON";
        return false;
    }
    try {
        if (!root.is_object()) fail("config", "must be an object, not " + std::string(root.type_name()));
        std::string unknown;
        if (!plugin::check_keys(root, {"children", "stop_timeout_ms"}, "config", unknown)) throw Invalid{unknown};
        PipeConfig config;
        std::set<std::string> names;
        for (auto &[key, value] : root.items()) {
            if (key == "children") {
                if (!value.is_array()) fail("children", "must be an array of {\"name\", \"command\", ...} objects");
                for (size_t i = 0; i < value.size(); ++i) {
                    std::string where = "children[" + std::to_string(i) + "]";
                    ChildSpec spec = parse_child(value[i], where);
                    if (!names.insert(spec.name).second) fail(where + ".name", "'" + spec.name + "' is used twice");
                    config.children.push_back(std::move(spec));
                }
            } else if (key == "stop_timeout_ms") {
                config.stop_timeout_ms = milliseconds(value, key, 0);
            }
        }
        out = std::move(config);
        return true;
    } catch (const Invalid &e) {
        error = e.text;
        return false;
    }
}

} // namespace ipchub::pipe
