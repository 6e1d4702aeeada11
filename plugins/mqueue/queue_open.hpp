// Creating a message queue of a wanted size on a system that may allow less.
//
// Linux caps a queue at /proc/sys/fs/mqueue/msg_max messages of msgsize_max
// bytes (10 x 8192 by default; not even root may exceed them inside a
// container), and charges every queue's full size to the user's
// RLIMIT_MSGQUEUE (ulimit -q, 819200 bytes by default), shared by every
// process of the user on the machine: see queue_budget_bytes(). So a queue
// is asked for at the configured size and, when refused, created smaller,
// step by step down to a floor of about 160 bytes; both ends use whatever it
// got. Only when not even the floor fits does creating it fail.
#pragma once

#include <sys/types.h>

#include <algorithm>
#include <string>

namespace ipchub::mqueue {

struct QueueSize {
    // 8 x 2 KiB: ~17.2 KB of the per-user budget per queue, ~34.3 KB per
    // client (two queues): 23 clients fit in the default 819200 bytes, so
    // parallel test runs and other users of the budget leave room. With
    // packing (packer.hpp) one wake-up moves up to 16 KiB whatever the frame
    // sizes, and eight slots hold eight separate small sends (a slow reader
    // still gets a burst of single frames). Measured against 4 x 4096 and
    // 10 x 2048: no difference beyond this machine's noise.
    long max_messages = 8;
    long message_size = 2048;
};

constexpr long kFloorMessages = 1;
constexpr long kFloorMessageSize = 64; // = kMinMessageSize (packer.hpp): a control message must fit

// What the kernel charges to RLIMIT_MSGQUEUE for a queue (ipc/mqueue.c,
// x86_64): the message bytes plus a struct msg_msg (48 bytes) and a priority
// tree node (48 bytes) per message slot.
constexpr long queue_budget_bytes(QueueSize s) { return s.max_messages * (s.message_size + 96); }

// The next smaller size to try when the budget refused `s`: fewer slots down
// to 2, then smaller messages down to 256 bytes, then one slot, then down to
// the floor. Every step about halves the cost, so a series of refusals
// ends quickly and leaves less than the floor's cost unused; returns `s` unchanged at the floor.
constexpr QueueSize next_smaller(QueueSize s) {
    if (s.max_messages > 2) return {std::max(2L, s.max_messages / 2), s.message_size};
    if (s.message_size > 256) return {s.max_messages, std::max(256L, s.message_size / 2)};
    if (s.max_messages > kFloorMessages) return {kFloorMessages, s.message_size};
    if (s.message_size > kFloorMessageSize) return {s.max_messages, std::max(kFloorMessageSize, s.message_size / 2)};
    return s;
}

struct SystemLimits {
    long msg_max = 10;       // /proc/sys/fs/mqueue/msg_max
    long msgsize_max = 8192; // /proc/sys/fs/mqueue/msgsize_max
};
SystemLimits read_system_limits();

// Creates queue `name` (O_CREAT | O_EXCL | `oflag`) with mode `mode` (not
// reduced by the umask) at `want`, or the largest smaller size the system
// grants (limits: at most msg_max x msgsize_max; budget: next_smaller() down
// to the floor). Returns the descriptor or a negative errno with `error` set.
// EEXIST is returned as is, for the caller to decide.
int create_queue(const std::string &name, int oflag, mode_t mode, QueueSize want, std::string &error);

// The size a queue actually has.
QueueSize queue_size(int mqd);

} // namespace ipchub::mqueue
