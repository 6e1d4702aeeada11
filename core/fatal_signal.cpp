#include "fatal_signal.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace ipchub::core {

namespace {

// Written by mark() on the hub thread, read by the handler on the same thread
// (the faults it reports are synchronous). sig_atomic_t length: the handler
// sees either no text or a whole one.
char g_tail[1024];
volatile sig_atomic_t g_tail_len = 0;

const char *signal_name(int sig) {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGFPE: return "SIGFPE";
    case SIGABRT: return "SIGABRT";
    }
    return "a fatal signal";
}

// Async-signal-safe: no allocation, no stdio, one write(2) of a line built
// on the stack, then the signal again with the default action (SA_RESETHAND
// restored it; it is blocked in here, so it arrives as the handler returns).
void on_fatal_signal(int sig) {
    char line[sizeof g_tail + 64];
    size_t n = 0;
    auto put = [&](const char *s, size_t len) {
        len = std::min(len, sizeof line - n);
        std::memcpy(line + n, s, len);
        n += len;
    };
    const char *name = signal_name(sig);
    put("myipchub: fatal signal ", 23);
    put(name, std::strlen(name));
    put(g_tail, size_t(g_tail_len));
    put("\n", 1);
    ssize_t ignored = ::write(STDERR_FILENO, line, n);
    (void)ignored;
    ::raise(sig);
}

} // namespace

FatalSignalReport::FatalSignalReport() {
    struct sigaction sa {};
    sa.sa_handler = on_fatal_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    for (size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &sa, &previous_[i]);
}

FatalSignalReport::~FatalSignalReport() {
    clear();
    for (size_t i = 0; i < std::size(kSignals); ++i) ::sigaction(kSignals[i], &previous_[i], nullptr);
}

void FatalSignalReport::mark(const std::string &plugin, const std::string &path, const char *phase) {
    std::string tail = " in plugin '" + plugin + "' (" + path + ") during " + phase +
                       "; disable it in plugins.json (\"enabled\": false) or fix it. The next hub of this "
                       "instance removes what this one left.";
    g_tail_len = 0;
    size_t n = std::min(tail.size(), sizeof g_tail);
    std::memcpy(g_tail, tail.data(), n);
    g_tail_len = sig_atomic_t(n);
}

void FatalSignalReport::clear() { g_tail_len = 0; }

} // namespace ipchub::core
