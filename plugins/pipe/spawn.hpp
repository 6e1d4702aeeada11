// Starts one child as `/bin/sh -c COMMAND` with its descriptors laid out as
// the environment contract says (docs/transports/pipe.md):
//   0 /dev/null, 1 and 2 pipes the hub reads for its log,
//   3 the hub->child pipe (read end), 4 the child->hub pipe (write end),
//   nothing else open; IPCHUB_PIPE_FDS="3,4" and IPCHUB_PIPE_INODES announce 3 and 4.
// The child gets its own process group (so the hub can signal a whole shell
// pipeline), an empty signal mask, default signal dispositions, and SIGTERM
// when the hub dies (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace ipchub::pipe {

constexpr int kChildReadFd = 3;  // hub -> child
constexpr int kChildWriteFd = 4; // child -> hub

struct SpawnedChild {
    pid_t pid = -1;
    int pidfd = -1;       // readable once the child exited; reap with waitid(P_PIDFD)
    int to_child = -1;    // hub writes frames here (non-blocking)
    int from_child = -1;  // hub reads frames here (non-blocking)
    int out = -1;         // the child's stdout (non-blocking)
    int err = -1;         // the child's stderr (non-blocking)
};

// The environment for children: the hub's own, with `bin_dir` put first in
// PATH, IPCHUB_CHILD_NAME=name, and any inherited IPCHUB_PIPE_* removed (a
// hub that is itself a child of another hub must not pass its own on).
std::vector<std::string> child_environment(const std::string &bin_dir, const std::string &name);

// Directory of the running executable (/proc/self/exe), "" if unknown.
std::string own_bin_dir();

// Starts the child. Every descriptor the hub keeps is close-on-exec. On
// failure returns a negative errno, writes `error` and leaves nothing open.
int spawn_child(const std::string &command, std::vector<std::string> env, SpawnedChild &out, std::string &error);

// Closes every descriptor of `child` that is open (not the process).
void close_descriptors(SpawnedChild &child);

} // namespace ipchub::pipe
