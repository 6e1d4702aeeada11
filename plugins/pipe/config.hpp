// The pipe plugin's configuration: which children to start and how to
// supervise them. Parsed from the plugin's "config" object in plugins.json
// (plus the {"name", "command"} entries the hub appends for --spawn).
// Pure: no I/O, so the unit tests check every rule.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ipchub::pipe {

enum class RestartPolicy {
    never,      // an exit is final
    on_failure, // restart after a non-zero exit status or death by a signal
    always      // restart after any exit, even status 0
};

const char *restart_policy_name(RestartPolicy policy);

struct ChildSpec {
    std::string name;    // for the log: [A-Za-z0-9._-]{1,64}, unique
    std::string command; // run as /bin/sh -c "command"
    RestartPolicy restart = RestartPolicy::never;
    uint32_t backoff_initial_ms = 200;
    uint32_t backoff_max_ms = 10000;
};

struct PipeConfig {
    std::vector<ChildSpec> children;
    uint32_t stop_timeout_ms = 3000; // SIGTERM, then SIGKILL after this long
};

// Decides whether a child that exited is started again.
bool should_restart(RestartPolicy policy, bool exited_cleanly);

// Parses and validates `json`. On failure returns false and sets `error` to
// one line naming the offending key (e.g. "children[1].restart: ...").
bool parse_pipe_config(const std::string &json, PipeConfig &out, std::string &error);

} // namespace ipchub::pipe
