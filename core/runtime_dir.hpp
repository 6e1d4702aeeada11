// Who may own the directories the hub keeps its socket, FIFOs and lock in.
// Whoever controls the instance's directory controls what clients connect
// to and which file the lock writes into, so the hub refuses a directory that
// another user created or can write (a squatter in /tmp could otherwise plant
// hub.lock -> a victim file, or listen in the hub's place). The rules are
// OpenSSH's StrictModes ones: our own directories must be ours and not
// writable by anybody else; the directories above them must belong to root
// or to us, and may be writable by others only when sticky (like /tmp).
#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>

namespace ipchub::core {

// The runtime base or instance directory: lstat'ed (a symbolic link is
// refused), a directory, owned by `uid`, no group or other write bit.
// Returns "" when it may be used, else a sentence naming path, owner and mode.
std::string check_own_dir(const std::string &path, uid_t uid);

// Every existing directory above `path`, from "/" down: owned by root or
// `uid` (a symbolic link too), writable by group or other only when sticky.
// Returns "" or the first offending path with owner and mode.
std::string check_parent_dirs(const std::string &path, uid_t uid);

// Mode of the hub's directories for a given file_mode: always rwx for the
// owner, plus search (x, never read or write) for group and other when
// file_mode lets them use the hub's files, so a shared group can reach the
// socket without listing or changing the directory.
unsigned dir_mode_for(uint32_t file_mode);

} // namespace ipchub::core
