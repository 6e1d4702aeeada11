// Names of the instance's message queues and how to find leftovers.
//
//   /ipchub.<instance>.u<uid>.mq.register          the hub's registration queue
//   /ipchub.<instance>.u<uid>.mq.<pid>.<n>.up      client -> hub, connection n of process pid
//   /ipchub.<instance>.u<uid>.mq.<pid>.<n>.down    hub -> client
//
// <uid> is the hub's effective uid: the queue namespace is one per machine,
// so without it two users' hubs of the same instance name would share (and
// remove) each other's queues.
#pragma once

#include <string>
#include <sys/types.h>

namespace ipchub::mqueue {

std::string register_queue_name(const std::string &instance, uid_t hub_uid);
std::string client_queue_name(const std::string &instance, uid_t hub_uid, int pid, unsigned seq, bool up);

// True when `entry` (a file name in the mqueue file system, no leading slash)
// is a queue of `instance` and `hub_uid` by the patterns above, and of no
// other instance: instance "a" must not claim "ipchub.a.u0.mq.1.u0.mq.register"
// of instance "a.u0.mq.1".
bool is_instance_queue(const std::string &instance, uid_t hub_uid, const std::string &entry);

// mq_unlink(name) only when the queue belongs to this process's effective
// uid: a hub never removes another user's queue, whatever its name says.
// 0, -ENOENT, -EPERM (not ours) or another negative errno.
int unlink_own_queue(const std::string &name);

// Where the mqueue file system is mounted (usually /dev/mqueue), from
// /proc/self/mounts; empty when it is not mounted (queues still work, but
// cannot be listed).
std::string mqueue_mount_dir();

// Unlinks every queue of `instance` and `hub_uid` found in the mqueue file
// system that belongs to the effective uid (unlink_own_queue). Returns
// how many were removed, or -1 when the file system is not mounted (then
// only queues whose names are known can be removed).
int unlink_instance_queues(const std::string &instance, uid_t hub_uid);

} // namespace ipchub::mqueue
