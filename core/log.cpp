#include "log.hpp"

#include <unistd.h>

#include <cstdio>

namespace ipchub::core {

std::string printable(std::string_view text) {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    for (char ch : text) {
        auto byte = static_cast<unsigned char>(ch);
        if (byte == '\\') {
            out += "\\\\"; // so "\x1b" written by a client cannot pose as an escaped byte
        } else if (byte >= 0x20 && byte < 0x7f) {
            out += ch;
        } else {
            // Bytes >= 0x80 too: C1 controls (0x9b is a CSI on some
            // terminals) are single bytes, and a log is read as ASCII.
            out += "\\x";
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        }
    }
    return out;
}

void Log::write(Level level, const std::string &text) const {
    if (!enabled(level)) return;
    static const char *names[] = {"error", "warning", "info", "debug"};
    // One fprintf per line so lines from concurrent writers never interleave.
    std::fprintf(stderr, "myipchub[%d]: %s: %s\n", int(::getpid()), names[int(level)], printable(text).c_str());
}

} // namespace ipchub::core
