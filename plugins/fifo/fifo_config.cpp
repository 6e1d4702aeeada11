#include "fifo_config.hpp"

#include <nlohmann/json.hpp>

namespace ipchub::fifo {

namespace {
bool read_number(const nlohmann::json &j, const char *key, uint64_t lo, uint64_t hi, uint32_t &out,
                 std::string &error) {
    auto it = j.find(key);
    if (it == j.end()) return true;
    if (!it->is_number_unsigned() || it->get<uint64_t>() < lo || it->get<uint64_t>() > hi) {
        error = std::string("\"") + key + "\" must be a whole number from " + std::to_string(lo) + " to " +
                std::to_string(hi);
        return false;
    }
    out = uint32_t(it->get<uint64_t>());
    return true;
}
} // namespace

bool parse_config(const char *json, FifoConfig &out, std::string &error) {
    nlohmann::json j = nlohmann::json::parse(json && *json ? json : "{}", nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
        error = "config must be a JSON object";
        return false;
    }
    for (auto &[key, value] : j.items()) {
        if (key != "pipe_size" && key != "handshake_timeout_ms" && key != "comment") {
            error = "unknown config key \"" + key + "\" (known: pipe_size, handshake_timeout_ms)";
            return false;
        }
    }
    return read_number(j, "pipe_size", 0, 1u << 30, out.pipe_size, error) &&
           read_number(j, "handshake_timeout_ms", 100, 600000, out.handshake_timeout_ms, error);
}

} // namespace ipchub::fifo
