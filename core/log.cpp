#include "log.hpp"

#include <unistd.h>

#include <cstdio>

namespace ipchub::core {

void Log::write(Level level, const std::string &text) const {
    if (!enabled(level)) return;
    static const char *names[] = {"error", "warning", "info", "debug"};
    // One fprintf per line so lines from concurrent writers never interleave.
    std::fprintf(stderr, "myipchub[%d]: %s: %s\n", int(::getpid()), names[int(level)], text.c_str());
}

} // namespace ipchub::core
