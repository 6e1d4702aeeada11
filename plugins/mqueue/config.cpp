#include "config.hpp"

#include "config_object.hpp"

namespace ipchub::mqueue {

bool parse_config(const char *json, QueueSize &size, std::string &error) {
    nlohmann::json j;
    return plugin::parse_config_object(json, {"max_messages", "message_size"}, j, error) &&
           plugin::read_whole_number(j, "max_messages", 1, 65536, size.max_messages, error) &&
           plugin::read_whole_number(j, "message_size", kFloorMessageSize, 16L * 1024 * 1024, size.message_size, error);
}

} // namespace ipchub::mqueue
