#include "config.hpp"

#include "config_object.hpp"

namespace ipchub::socket {

bool parse_config(const char *json, SocketConfig &, std::string &error) {
    nlohmann::json object;
    return plugin::parse_config_object(json, {}, object, error);
}

std::string socket_path(const std::string &runtime_dir) { return runtime_dir + "/hub.sock"; }

} // namespace ipchub::socket
