// Is a hub running on an instance, and which backends does it offer? Asked
// when a client's backend finds no hub: "no hub is running" would be wrong
// when the hub runs but without that transport.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace ipchub {

struct RunningHub {
    pid_t pid = 0;
    std::vector<std::string> backends; // empty: the hub has not listed them (yet)
};

// The hub holding `<instance_dir>/hub.lock` (an flock seen in /proc/locks,
// so asking never takes the lock from a hub starting right now), with the
// backends it wrote there; nullopt when no live hub holds it.
std::optional<RunningHub> find_running_hub(const std::string &instance_dir);

} // namespace ipchub
