#include "tcp_config.hpp"

#include <cctype>
#include <cstdlib>

namespace tcp_plugin {

namespace {

struct Reader {
    const char *p;
    void skip() {
        while (*p && std::isspace(static_cast<unsigned char>(*p))) ++p;
    }
    bool eat(char c) {
        skip();
        if (*p != c) return false;
        ++p;
        return true;
    }
    // A JSON string without escapes beyond \" and \\ (enough for addresses).
    bool string(std::string &out) {
        skip();
        if (*p != '"') return false;
        for (++p; *p && *p != '"'; ++p) {
            if (*p == '\\') {
                ++p;
                if (*p != '"' && *p != '\\') return false;
            }
            out += *p;
        }
        if (*p != '"') return false;
        ++p;
        return true;
    }
};

enum class Kind { string, number, boolean, other };

// Reads one value; `text` gets a string's contents or the literal's text.
Kind value(Reader &r, std::string &text) {
    r.skip();
    if (*r.p == '"') return r.string(text) ? Kind::string : Kind::other;
    const char *start = r.p;
    while (*r.p && *r.p != ',' && *r.p != '}' && !std::isspace(static_cast<unsigned char>(*r.p))) ++r.p;
    text.assign(start, r.p);
    if (text == "true" || text == "false") return Kind::boolean;
    if (!text.empty() && (std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '-')) return Kind::number;
    return Kind::other;
}

} // namespace

std::string parse_config(const char *json, Config &out) {
    Reader r{json ? json : "{}"};
    if (!r.eat('{')) return "config must be a JSON object";
    if (r.eat('}')) return "";
    do {
        std::string key, text;
        if (!r.string(key) || !r.eat(':')) return "config is not a flat JSON object";
        Kind kind = value(r, text);
        if (key == "address") {
            if (kind != Kind::string) return "config.address: expected a string such as \"127.0.0.1\"";
            out.address = text;
        } else if (key == "port") {
            char *end = nullptr;
            long port = std::strtol(text.c_str(), &end, 10);
            if (kind != Kind::number || *end || port < 1 || port > 65535)
                return "config.port: expected a whole number from 1 to 65535";
            out.port = int(port);
        } else if (key == "allow_non_loopback") {
            if (kind != Kind::boolean) return "config.allow_non_loopback: expected true or false";
            out.allow_non_loopback = text == "true";
        } else {
            return "config." + key + ": unknown key (known: address, port, allow_non_loopback)";
        }
    } while (r.eat(','));
    if (!r.eat('}')) return "config is not a flat JSON object (nested values are not supported)";
    return "";
}

} // namespace tcp_plugin
