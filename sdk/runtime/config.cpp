#include "config.hpp"

#include <ipchub/protocol.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <type_traits>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace ipchub {

namespace {

using nlohmann::json;

std::string where(const std::string &path) { return path.empty() ? "plugins.json" : path; }

// Turns a byte offset into "line L, column C".
std::string line_col(std::string_view text, size_t offset) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            col = 1;
        } else {
            ++col;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

const char *type_name(const json &j) { return j.type_name(); }

// "[json.exception.out_of_range.406] number overflow ..." -> "number overflow ..."
std::string without_id(const std::string &what) {
    if (what.empty() || what[0] != '[') return what;
    auto close = what.find("] ");
    return close == std::string::npos ? what : what.substr(close + 2);
}

// Follows the parser's events to name the key it is at: "hub.spin_us",
// "plugins[2].config.x".
class KeyPath {
public:
    void follow(json::parse_event_t event, const json &parsed) {
        using E = json::parse_event_t;
        switch (event) {
        case E::object_start: levels_.push_back({false, 0, ""}); break;
        case E::array_start: levels_.push_back({true, 0, ""}); break;
        case E::key:
            if (!levels_.empty() && parsed.is_string()) levels_.back().key = parsed.get<std::string>();
            break;
        case E::value: next_element(); break;
        case E::object_end:
        case E::array_end:
            if (!levels_.empty()) levels_.pop_back();
            next_element();
            break;
        }
    }
    std::string str() const {
        std::string out;
        for (auto &l : levels_) {
            if (l.array) out += "[" + std::to_string(l.index) + "]";
            else if (!l.key.empty()) out += (out.empty() ? "" : ".") + l.key;
        }
        return out.empty() ? "top level" : out;
    }

private:
    struct Level {
        bool array;
        size_t index;
        std::string key;
    };
    void next_element() {
        if (!levels_.empty() && levels_.back().array) ++levels_.back().index;
    }
    std::vector<Level> levels_;
};

HubConfig validate(const json &doc, const std::string &path);

[[noreturn]] void fail(const std::string &path, const std::string &at, const std::string &what) {
    throw ConfigError(where(path) + ": " + at + ": " + what);
}

template <typename Check>
const json *member(const json &obj, const char *key, const std::string &path, const std::string &at,
                   const char *expected, Check check) {
    auto it = obj.find(key);
    if (it == obj.end()) return nullptr;
    if (!check(*it)) fail(path, at + "." + key, std::string("expected ") + expected + ", got " + type_name(*it));
    return &*it;
}

bool is_bool(const json &j) { return j.is_boolean(); }
bool is_string(const json &j) { return j.is_string(); }
bool is_object(const json &j) { return j.is_object(); }
bool is_count(const json &j) { return j.is_number_unsigned() || (j.is_number_integer() && j.get<int64_t>() >= 0); }

uint64_t positive(const json &j, const std::string &path, const std::string &at, uint64_t lo, uint64_t hi) {
    uint64_t v = j.get<uint64_t>();
    if (v < lo || v > hi)
        fail(path, at, "value " + std::to_string(v) + " out of range " + std::to_string(lo) + ".." + std::to_string(hi));
    return v;
}

// The budgets against hostile or buggy clients (HubSettings, docs/security.md).
void parse_hub_limits(const json &h, HubConfig &cfg, const std::string &path) {
    const std::string at = "hub";
    HubSettings &s = cfg.hub;
    auto count = [&](const char *key, uint64_t lo, uint64_t hi, auto &out) {
        if (auto *v = member(h, key, path, at, "a whole number", is_count))
            out = static_cast<std::remove_reference_t<decltype(out)>>(positive(*v, path, at + "." + key, lo, hi));
    };
    count("max_connections", 1, 1u << 20, s.max_connections);
    count("max_connections_per_uid", 1, 1u << 20, s.max_connections_per_uid);
    count("hello_timeout_ms", 100, 3600000, s.hello_timeout_ms);
    count("max_backlog_bytes_total", 4096, 1ull << 40, s.max_backlog_bytes_total);
    count("max_subscriptions_per_connection", 1, 1u << 24, s.max_subscriptions_per_connection);
    count("max_channels", 1, 1u << 24, s.max_channels);
    count("stats_per_second", 1, 100000, s.stats_per_second);
    // One frame of the largest size must always fit in the partial-frame
    // budget, or such a message could never be received.
    const uint64_t one_frame = uint64_t(s.max_message_size) + IPCHUB_FRAME_HEADER_SIZE + IPCHUB_CHANNEL_MAX;
    if (member(h, "max_partial_bytes_total", path, at, "a whole number", is_count))
        count("max_partial_bytes_total", one_frame, 1ull << 40, s.max_partial_bytes_total);
    else
        s.max_partial_bytes_total = std::max<uint64_t>(s.max_partial_bytes_total, 2 * one_frame);
}

void parse_hub(const json &h, HubConfig &cfg, const std::string &path) {
    const std::string at = "hub";
    for (auto it = h.begin(); it != h.end(); ++it) {
        static const char *known[] = {"max_message_size", "subscriber_backlog_bytes", "file_mode", "shutdown_drain_ms",
                                      "spin_us", "max_connections", "max_connections_per_uid", "hello_timeout_ms",
                                      "max_partial_bytes_total", "max_backlog_bytes_total",
                                      "max_subscriptions_per_connection", "max_channels", "stats_per_second"};
        bool ok = false;
        for (auto *k : known) ok = ok || it.key() == k;
        if (!ok) fail(path, at + "." + it.key(), "unknown setting");
    }
    if (auto *v = member(h, "max_message_size", path, at, "a whole number", is_count))
        cfg.hub.max_message_size = uint32_t(positive(*v, path, at + ".max_message_size", 1, 256u << 20));
    if (auto *v = member(h, "subscriber_backlog_bytes", path, at, "a whole number", is_count))
        cfg.hub.subscriber_backlog_bytes = positive(*v, path, at + ".subscriber_backlog_bytes", 4096, 1ull << 34);
    if (auto *v = member(h, "file_mode", path, at, "a string of octal digits such as \"0600\"", is_string)) {
        const std::string s = v->get<std::string>();
        char *end = nullptr;
        unsigned long mode = std::strtoul(s.c_str(), &end, 8);
        if (s.empty() || *end || mode > 0777) fail(path, at + ".file_mode", "\"" + s + "\" is not an octal mode like \"0600\"");
        cfg.hub.file_mode = uint32_t(mode);
    }
    if (auto *v = member(h, "shutdown_drain_ms", path, at, "a whole number", is_count))
        cfg.hub.shutdown_drain_ms = uint32_t(positive(*v, path, at + ".shutdown_drain_ms", 0, 60000));
    if (auto *v = member(h, "spin_us", path, at, "a whole number", is_count))
        cfg.hub.spin_us = uint32_t(positive(*v, path, at + ".spin_us", 0, kMaxSpinUs));
    parse_hub_limits(h, cfg, path);
}

void parse_plugin_dirs(const json &dirs, HubConfig &cfg, const std::string &path) {
    if (!dirs.is_array()) fail(path, "plugin_dirs", std::string("expected an array of directory names, got ") + type_name(dirs));
    size_t slash = path.rfind('/');
    // Text without a file (path "") is relative to the working directory.
    std::string base = slash == std::string::npos ? "." : path.substr(0, slash); // "" for a file in "/"
    for (size_t i = 0; i < dirs.size(); ++i) {
        const std::string at = "plugin_dirs[" + std::to_string(i) + "]";
        if (!dirs[i].is_string()) fail(path, at, std::string("expected a string, got ") + type_name(dirs[i]));
        std::string dir = dirs[i].get<std::string>();
        if (dir.empty()) fail(path, at, "empty directory name");
        if (dir.find(':') != std::string::npos) fail(path, at, "a ':' cannot be used: it separates plugin search paths");
        cfg.plugin_dirs.push_back(dir[0] == '/' ? dir : base + "/" + dir);
    }
}

PluginSpec parse_plugin(const json &p, size_t index, const std::string &path) {
    const std::string at = "plugins[" + std::to_string(index) + "]";
    if (!p.is_object()) fail(path, at, std::string("expected an object, got ") + type_name(p));
    for (auto it = p.begin(); it != p.end(); ++it) {
        static const char *known[] = {"name", "file", "enabled", "required", "config", "comment"};
        bool ok = false;
        for (auto *k : known) ok = ok || it.key() == k;
        if (!ok) fail(path, at + "." + it.key(), "unknown key (known: name, file, enabled, required, config, comment)");
    }
    PluginSpec spec;
    auto *name = member(p, "name", path, at, "a string", is_string);
    if (!name) fail(path, at, "missing \"name\"");
    spec.name = name->get<std::string>();
    if (spec.name.empty() || spec.name.size() > 32) fail(path, at + ".name", "must be 1 to 32 characters");
    auto *file = member(p, "file", path, at, "a string", is_string);
    spec.file = file ? file->get<std::string>() : "libipchub-" + spec.name + ".so";
    if (auto *v = member(p, "enabled", path, at, "true or false", is_bool)) spec.enabled = v->get<bool>();
    if (auto *v = member(p, "required", path, at, "true or false", is_bool)) spec.required = v->get<bool>();
    if (auto *v = member(p, "config", path, at, "an object", is_object)) spec.config_json = v->dump();
    return spec;
}

} // namespace

const PluginSpec *HubConfig::find(std::string_view name) const {
    for (auto &p : plugins)
        if (p.name == name) return &p;
    return nullptr;
}

std::string HubConfig::plugin_names() const {
    std::string out;
    for (auto &p : plugins) {
        if (!p.enabled) continue;
        if (!out.empty()) out += ", ";
        out += p.name;
    }
    return out.empty() ? "(none enabled)" : out;
}

HubConfig parse_config(std::string_view text, const std::string &path) {
    json doc;
    KeyPath at; // where the parser is, for errors that carry no position (number overflow)
    try {
        doc = json::parse(text.begin(), text.end(), [&at](int, json::parse_event_t event, json &parsed) {
            at.follow(event, parsed);
            return true;
        });
    } catch (const json::parse_error &e) {
        // nlohmann's text starts with "[json.exception.parse_error.101] parse error at line 1, column 2: "
        std::string msg = e.what();
        auto colon = msg.find(": ");
        std::string detail = colon == std::string::npos ? msg : msg.substr(colon + 2);
        throw ConfigError(where(path) + ": invalid JSON at " + line_col(text, e.byte ? e.byte - 1 : 0) + ": " + detail);
    } catch (const json::exception &e) {
        // e.g. out_of_range.406 for 1e400: a number no double can hold.
        fail(path, at.str(), "invalid value: " + without_id(e.what()));
    }
    try {
        return validate(doc, path);
    } catch (const json::exception &e) {
        // Every check above runs before a value is converted; this is the
        // net under them, so a missed case is still exit 2 and not a crash.
        fail(path, "top level", "invalid value: " + without_id(e.what()));
    }
}

namespace {

HubConfig validate(const json &doc, const std::string &path) {
    HubConfig cfg;
    cfg.path = path;
    if (!doc.is_object()) fail(path, "top level", std::string("expected an object, got ") + type_name(doc));
    for (auto it = doc.begin(); it != doc.end(); ++it)
        if (it.key() != "plugins" && it.key() != "hub" && it.key() != "plugin_dirs" && it.key() != "comment")
            fail(path, it.key(), "unknown key (known: plugins, plugin_dirs, hub, comment)");
    auto pit = doc.find("plugins");
    if (pit == doc.end()) fail(path, "top level", "missing \"plugins\" (a list of transports)");
    if (!pit->is_array()) fail(path, "plugins", std::string("expected an array, got ") + type_name(*pit));
    for (size_t i = 0; i < pit->size(); ++i) cfg.plugins.push_back(parse_plugin((*pit)[i], i, path));
    if (auto dit = doc.find("plugin_dirs"); dit != doc.end()) parse_plugin_dirs(*dit, cfg, path);
    if (auto hit = doc.find("hub"); hit != doc.end()) {
        if (!hit->is_object()) fail(path, "hub", std::string("expected an object, got ") + type_name(*hit));
        parse_hub(*hit, cfg, path);
    }
    return cfg;
}

} // namespace

HubConfig load_config_file(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ConfigError(path + ": cannot read: " + std::strerror(errno));
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) throw ConfigError(path + ": is a directory, not a file");
    std::ostringstream text;
    text << in.rdbuf();
    return parse_config(text.str(), path);
}

} // namespace ipchub
