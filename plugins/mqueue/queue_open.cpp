#include "queue_open.hpp"

#include "packer.hpp"

#include <fcntl.h>
#include <mqueue.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ipchub::mqueue {

static_assert(kFloorMessageSize == long(kMinMessageSize), "the floor must still carry a control message");

namespace {
long read_long(const char *path, long fallback) {
    FILE *f = std::fopen(path, "re");
    if (!f) return fallback;
    long v = fallback;
    if (std::fscanf(f, "%ld", &v) != 1) v = fallback;
    std::fclose(f);
    return v;
}

std::string limit_text() {
    rlimit rl{};
    if (::getrlimit(RLIMIT_MSGQUEUE, &rl) != 0) return "unknown";
    return rl.rlim_cur == RLIM_INFINITY ? "unlimited" : std::to_string(rl.rlim_cur) + " bytes";
}

int try_create(const std::string &name, int oflag, mode_t mode, QueueSize size) {
    mq_attr attr{};
    attr.mq_maxmsg = size.max_messages;
    attr.mq_msgsize = size.message_size;
    mqd_t q = ::mq_open(name.c_str(), oflag | O_CREAT | O_EXCL | O_CLOEXEC, mode, &attr);
    return q == mqd_t(-1) ? -errno : int(q);
}
} // namespace

SystemLimits read_system_limits() {
    SystemLimits l;
    l.msg_max = read_long("/proc/sys/fs/mqueue/msg_max", l.msg_max);
    l.msgsize_max = read_long("/proc/sys/fs/mqueue/msgsize_max", l.msgsize_max);
    return l;
}

int create_queue(const std::string &name, int oflag, mode_t mode, QueueSize want, std::string &error) {
    QueueSize size = want;
    int rc = try_create(name, oflag, mode, size);
    if (rc == -EINVAL) { // beyond msg_max / msgsize_max: take what the system allows
        SystemLimits l = read_system_limits();
        size.max_messages = std::min(size.max_messages, l.msg_max);
        size.message_size = std::min(size.message_size, l.msgsize_max);
        rc = try_create(name, oflag, mode, size);
    }
    // RLIMIT_MSGQUEUE exhausted (EMFILE) or kernel memory short (ENOMEM):
    // a smaller queue still works, messages are just smaller or fewer. Down
    // to the floor (1 x 64 bytes, ~160 bytes of the budget): slow, but a
    // client that connects slowly beats one that cannot connect at all.
    while (rc == -EMFILE || rc == -ENOMEM) {
        QueueSize smaller = next_smaller(size);
        if (smaller.max_messages == size.max_messages && smaller.message_size == size.message_size) break;
        size = smaller;
        rc = try_create(name, oflag, mode, size);
    }
    if (rc < 0) {
        if (rc == -EMFILE)
            error = "cannot create message queue " + name +
                    ": the per-user message queue memory (RLIMIT_MSGQUEUE, ulimit -q, " + limit_text() +
                    ") is used up, not even a " + std::to_string(queue_budget_bytes(size)) +
                    "-byte queue fits; other processes of this user hold it (ls /dev/mqueue)";
        else if (rc == -ENOSPC)
            error = "cannot create message queue " + name +
                    ": the system-wide number of queues (/proc/sys/fs/mqueue/queues_max) is reached";
        else
            error = "cannot create message queue " + name + ": " + std::strerror(-rc);
        return rc;
    }
    ::fchmod(rc, mode); // mq_open applied the umask; the configured mode wins
    return rc;
}

QueueSize queue_size(int mqd) {
    mq_attr attr{};
    QueueSize s;
    if (::mq_getattr(mqd, &attr) == 0) {
        s.max_messages = attr.mq_maxmsg;
        s.message_size = attr.mq_msgsize;
    }
    return s;
}

} // namespace ipchub::mqueue
