#include "config.hpp"

#include "config_object.hpp"
#include "ring.hpp"

namespace ipchub::shm {

bool parse_config(const char *json, Config &out, std::string &error) {
    nlohmann::json object;
    if (!plugin::parse_config_object(json, {"ring_bytes", "handshake_timeout_ms", "max_pending_handshakes"}, object,
                                     error))
        return false;
    if (!plugin::read_whole_number(object, "handshake_timeout_ms", 100, 600000, out.handshake_timeout_ms, error) ||
        !plugin::read_whole_number(object, "max_pending_handshakes", 1, 65536, out.max_pending_handshakes, error))
        return false;
    auto ring_bytes = object.find("ring_bytes");
    if (ring_bytes == object.end()) return true;
    // Not read_whole_number: the ring needs a power of two, and says so.
    if (!ring_bytes->is_number_unsigned() || !valid_ring_bytes(ring_bytes->get<uint64_t>())) {
        error = "config ring_bytes must be a power of two from " + std::to_string(kMinRingBytes) + " to " +
                std::to_string(kMaxRingBytes) + " (got " + ring_bytes->dump() + ")";
        return false;
    }
    out.ring_bytes = ring_bytes->get<uint64_t>();
    return true;
}

} // namespace ipchub::shm
