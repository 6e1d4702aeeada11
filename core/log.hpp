// The hub's log: one line per event on stderr, "myipchub[pid]: level: text".
#pragma once

#include <string>
#include <string_view>

namespace ipchub::core {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

// `text` with every byte outside printable ASCII (control characters, DEL,
// bytes >= 0x80) and the backslash written as \xNN / \\, so text a client
// chose (a HELLO name, a channel name in an error, a peer description) can
// neither start a forged log line nor send terminal escape sequences. Use it
// wherever client text goes into something a person reads (stats, errors).
std::string printable(std::string_view text);

class Log {
public:
    void set_verbosity(Level max) { max_ = max; }
    bool enabled(Level level) const { return level <= max_; }
    // Writes one line; the text goes through printable() here, once for every
    // caller (plugins' messages included), so a line is always one line.
    void write(Level level, const std::string &text) const;
    void error(const std::string &text) const { write(Level::error, text); }
    void warn(const std::string &text) const { write(Level::warn, text); }
    void info(const std::string &text) const { write(Level::info, text); }
    void debug(const std::string &text) const { write(Level::debug, text); }

private:
    Level max_ = Level::info;
};

} // namespace ipchub::core
