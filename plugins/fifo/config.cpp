#include "config.hpp"

#include "config_object.hpp"

namespace ipchub::fifo {

bool parse_config(const char *json, FifoConfig &out, std::string &error) {
    nlohmann::json j;
    return plugin::parse_config_object(json, {"pipe_size", "handshake_timeout_ms", "max_pending_registrations"}, j, error) &&
           plugin::read_whole_number(j, "pipe_size", 0, 1 << 30, out.pipe_size, error) &&
           plugin::read_whole_number(j, "handshake_timeout_ms", 100, 600000, out.handshake_timeout_ms, error) &&
           plugin::read_whole_number(j, "max_pending_registrations", 1, 65536, out.max_pending_registrations, error);
}

} // namespace ipchub::fifo
