// Finding and removing the FIFO transport's files in an instance directory:
// at hub shutdown, in sweep (after a dead hub), and for the FIFOs of a client
// that died before the hub ever heard of it.
#pragma once

#include <string>

namespace ipchub::fifo {

enum class Leftovers {
    all,               // every FIFO of the plugin (cleanup, sweep)
    dead_clients_only, // client FIFOs whose creator no longer exists
};

// Unlinks the plugin's FIFOs (named fifo.*, and really FIFOs) in `dir`.
// Returns how many were removed, or a negative errno with `error` set when
// one could not be removed or the directory not read (a missing directory
// is not an error: nothing to remove).
int remove_leftovers(const std::string &dir, Leftovers which, std::string *error);

} // namespace ipchub::fifo
