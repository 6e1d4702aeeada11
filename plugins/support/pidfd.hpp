// Noticing that another process died, for mechanisms that have no EOF
// (message queues, shared memory) or a peer that never opened its end yet.
#pragma once

#include <sys/types.h>

#include <cstdint>

namespace ipchub::plugin {

// pidfd_open(2): a close-on-exec descriptor that becomes readable when
// process `pid` exits. Returns -1 with errno set (ESRCH: already gone;
// ENOSYS: kernel < 5.3; the caller then falls back to process_alive).
int open_pidfd(pid_t pid);

// True while a process `pid` exists (kill(pid, 0): EPERM means it exists but
// belongs to someone else). A number no process can have (<= 0, which kill
// would take for a process group, or beyond pid_t) is never alive.
bool process_alive(int64_t pid);

// True once the process a pidfd refers to has exited (the pidfd is readable).
bool pidfd_exited(int pidfd);

} // namespace ipchub::plugin
