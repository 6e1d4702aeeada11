#include "config.hpp"

#include "plugin_support.hpp"
#include "ring.hpp"

#include <nlohmann/json.hpp>

#include <cerrno>

namespace ipchub::shm {

using ipchub::plugin::format_error;

int parse_config(const char *json, Config &out, char *err, size_t err_len) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(json && *json ? json : "{}");
    } catch (const std::exception &e) {
        return format_error(err, err_len, -EINVAL, "config is not valid JSON: %s", e.what());
    }
    if (!j.is_object()) return format_error(err, err_len, -EINVAL, "config must be a JSON object");
    for (auto &[key, value] : j.items()) {
        if (key != "ring_bytes")
            return format_error(err, err_len, -EINVAL, "unknown config key \"%s\" (known: ring_bytes)", key.c_str());
        if (!value.is_number_unsigned() || !valid_ring_bytes(value.get<uint64_t>()))
            return format_error(err, err_len, -EINVAL,
                                "config ring_bytes must be a power of two from %zu to %zu (got %s)", kMinRingBytes,
                                kMaxRingBytes, value.dump().c_str());
        out.ring_bytes = value.get<uint64_t>();
    }
    return 0;
}

} // namespace ipchub::shm
