// Processes and files the orchestrator needs: start a program (itself in a
// worker role, or myipchub) with a clean signal state, wait for it with a
// deadline, stop it, and exchange small files with it (ready markers, JSON
// results). Polling here is never inside a measured interval.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace bench {

std::string self_exe();

// fork + exec `argv` with stdin from /dev/null and stdout+stderr appended to
// `log_path`. The child gets default signal dispositions, an empty signal
// mask, and SIGTERM when the orchestrator dies (so nothing outlives it).
// Throws std::runtime_error when fork fails.
pid_t spawn(const std::vector<std::string> &argv, const std::string &log_path);

// Exit code, 128 + signal when killed, or -1 if still running after timeout_ms.
int wait_exit(pid_t pid, int timeout_ms);

// Sends `sig`, waits up to grace_ms, then SIGKILLs. Returns the exit status as wait_exit.
int stop_process(pid_t pid, int sig, int grace_ms);

// Polls `done` every poll_ms until it holds, timeout_ms passes (false) or the
// user interrupted (false).
bool wait_until(const std::function<bool()> &done, int timeout_ms, int poll_ms = 2);

bool file_exists(const std::string &path);
std::string read_text(const std::string &path);
// Written to path + ".tmp" and renamed, so a reader never sees half a file.
void write_text_atomic(const std::string &path, const std::string &text);
std::string shell_quote(const std::vector<std::string> &argv);

// SIGINT / SIGTERM in the orchestrator set this instead of killing it, so it
// can stop its hub and workers and remove its files first.
void install_interrupt_handler();
bool interrupted();

} // namespace bench
