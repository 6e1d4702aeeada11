// Creating a message queue of a wanted size on a system that may allow less.
//
// Linux caps a queue at /proc/sys/fs/mqueue/msg_max messages of msgsize_max
// bytes (10 x 8192 by default; not even root may exceed them inside a
// container), and charges every queue's full size (messages x size) to the
// user's RLIMIT_MSGQUEUE (ulimit -q, 800 KiB by default): about ten default
// queues per user. So a queue is asked for at the configured size and, when
// refused, created smaller; the sender cuts frames to whatever it got.
#pragma once

#include <sys/types.h>

#include <string>

namespace ipchub::mq {

struct QueueSize {
    long max_messages = 10;
    long message_size = 4096; // 10 x 4 KiB: ~41 KiB of the 800 KiB per-user budget per queue
};

struct SystemLimits {
    long msg_max = 10;       // /proc/sys/fs/mqueue/msg_max
    long msgsize_max = 8192; // /proc/sys/fs/mqueue/msgsize_max
};
SystemLimits read_system_limits();

// Parses the plugin's config object ({"max_messages": N, "message_size": B},
// both optional). Returns false with `error` set on a bad value.
bool parse_queue_config(const char *config_json, QueueSize &size, std::string &error);

// Creates queue `name` (O_CREAT | O_EXCL | `oflag`) with mode `mode` (not
// reduced by the umask) at `want`, or the largest smaller size the system
// grants. Returns the descriptor or a negative errno with `error` set. EEXIST
// is returned as is, for the caller to decide.
int create_queue(const std::string &name, int oflag, mode_t mode, QueueSize want, std::string &error);

// The size a queue actually has.
QueueSize queue_size(int mqd);

} // namespace ipchub::mq
