// The mqueue plugin's "config" object from plugins.json:
// {"max_messages": N, "message_size": B}, both optional (the size each
// client queue is asked for; queue_open.hpp explains what the system allows).
#pragma once

#include "queue_open.hpp"

#include <string>

namespace ipchub::mqueue {

// Parses `json` (NULL or "" give the defaults) into `size`. On failure
// returns false with `error` set (a bad value, or an unknown key named).
bool parse_config(const char *json, QueueSize &size, std::string &error);

} // namespace ipchub::mqueue
