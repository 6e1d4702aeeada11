// The one line a hub writes when a plugin kills it while loading, initialising
// or starting (a SIGSEGV in a constructor, hub_init or hub_start): which plugin
// and which phase, so the user knows what to disable. The signal is then
// raised again, so the exit status still says "crashed" and a core dump (if
// enabled) still points at the fault. The next hub takes over the instance
// lock and sweeps what the dead one left, as after any crash.
#pragma once

#include <signal.h>

#include <string>

namespace ipchub::core {

class FatalSignalReport {
public:
    // Installs the handlers for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT;
    // the destructor restores the previous ones (a sanitizer's, say), so only
    // the phases marked in between are covered.
    FatalSignalReport();
    ~FatalSignalReport();
    FatalSignalReport(const FatalSignalReport &) = delete;
    FatalSignalReport &operator=(const FatalSignalReport &) = delete;

    // What the hub does from now on, e.g. mark("socket", "/…/libipchub-socket.so", "init").
    // Formats the line here: the handler only copies bytes and calls write(2).
    void mark(const std::string &plugin, const std::string &path, const char *phase);
    void clear(); // between phases: a crash then reports no plugin

private:
    static constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
    struct sigaction previous_[sizeof kSignals / sizeof kSignals[0]];
};

} // namespace ipchub::core
