#include "tcp_config.hpp"

#include <ipchub/plugin_kit/config_object.hpp>

namespace tcp_plugin {

std::string parse_config(const char *json, Config &out) {
    nlohmann::json object;
    std::string error;
    if (!ipchub::plugin::parse_config_object(json, {"address", "port", "allow_non_loopback"}, object, error))
        return error;
    if (object.contains("address")) {
        if (!object["address"].is_string()) return "config: \"address\" must be a string such as \"127.0.0.1\"";
        out.address = object["address"].get<std::string>();
    }
    if (!ipchub::plugin::read_whole_number(object, "port", 1, 65535, out.port, error)) return error;
    if (object.contains("allow_non_loopback")) {
        if (!object["allow_non_loopback"].is_boolean()) return "config: \"allow_non_loopback\" must be true or false";
        out.allow_non_loopback = object["allow_non_loopback"].get<bool>();
    }
    return "";
}

} // namespace tcp_plugin
