// Names of the instance's message queues and how to find leftovers.
//
//   /ipchub.<instance>.mq.register          the hub's registration queue
//   /ipchub.<instance>.mq.<pid>.<n>.up      client -> hub, connection n of process pid
//   /ipchub.<instance>.mq.<pid>.<n>.down    hub -> client
#pragma once

#include <string>

namespace ipchub::mqueue {

std::string register_queue_name(const std::string &instance);
std::string client_queue_name(const std::string &instance, int pid, unsigned seq, bool up);

// True when `entry` (a file name in the mqueue file system, no leading slash)
// is a queue of `instance` by the patterns above, and of no other instance:
// instance "a" must not claim "ipchub.a.mq.1.mq.register" of instance "a.mq.1".
bool is_instance_queue(const std::string &instance, const std::string &entry);

// Where the mqueue file system is mounted (usually /dev/mqueue), from
// /proc/self/mounts; empty when it is not mounted (queues still work, but
// cannot be listed).
std::string mqueue_mount_dir();

// Unlinks every queue of `instance` found in the mqueue file system. Returns
// how many were removed, or -1 when the file system is not mounted (then
// only queues whose names are known can be removed).
int unlink_instance_queues(const std::string &instance);

} // namespace ipchub::mqueue
