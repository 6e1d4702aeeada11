// The hub's log: one line per event on stderr, "myipchub[pid]: level: text".
#pragma once

#include <string>

namespace ipchub::core {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

class Log {
public:
    void set_verbosity(Level max) { max_ = max; }
    bool enabled(Level level) const { return level <= max_; }
    void write(Level level, const std::string &text) const;
    void error(const std::string &text) const { write(Level::error, text); }
    void warn(const std::string &text) const { write(Level::warn, text); }
    void info(const std::string &text) const { write(Level::info, text); }
    void debug(const std::string &text) const { write(Level::debug, text); }

private:
    Level max_ = Level::info;
};

} // namespace ipchub::core
