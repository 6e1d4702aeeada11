// The hub holds a descriptor or more per client: start-up raises the soft
// RLIMIT_NOFILE to the hard limit, so the number of clients is bounded by
// what the administrator allows (the hard limit) rather than the shell's
// conservative default (often 1024). Out of descriptors anyway, the
// listeners refuse clients without spinning (plugins/support/unix_listener.hpp).
#pragma once

#include "log.hpp"

namespace ipchub::core {

// Raises the soft limit on open files to the hard one; logs what it did
// (debug), or why it could not (warning: the hub still runs).
void raise_open_file_limit(const Log &log);

} // namespace ipchub::core
