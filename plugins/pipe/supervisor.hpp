// Supervision lives in supervisor.cpp; its entry points are declared in
// pipe_hub.hpp next to the state they work on. This header adds the one
// piece the rest of the plugin formats for humans.
#pragma once

#include <signal.h>

#include <string>

namespace ipchub::pipe {

// "exited with status 1", "was killed by signal 9 (Killed)", ...
std::string describe_exit(const siginfo_t &info);

// True for exit status 0; false for non-zero or death by a signal.
bool exited_cleanly(const siginfo_t &info);

} // namespace ipchub::pipe
