// hub mode: publisher -> myipchub -> subscriber(s), every side a separate
// process using the public client API (ipchub::Client). The orchestrator
// starts a private hub per run (so a pipe client can be one of its spawned
// children) unless --use-running-hub says to measure an existing one.
#pragma once

#include "context.hpp"
#include "run.hpp"

namespace bench {

// Worker roles (exit code 0 on success; results in options.out_path).
int hub_subscriber_main(const Options &o);
int hub_publisher_main(const Options &o);

RunResult measure_hub(Context &ctx, const RunSpec &spec);

} // namespace bench
