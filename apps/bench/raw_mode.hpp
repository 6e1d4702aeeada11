// raw mode: one mechanism point to point, no router. A server process loads
// the transport plugin and runs its hub half under a minimal host of its own
// (an event loop that sinks the stream and answers pings); a client process
// connects with the plugin's client half. Both speak real protocol frames
// (PUBLISH in, DATA back), so framing costs what it costs in the hub.
#pragma once

#include "context.hpp"
#include "run.hpp"

namespace bench {

// Worker roles (exit code 0 on success; results in options.out_path).
int raw_server_main(const Options &o);
int raw_client_main(const Options &o);

// Orchestrates one raw run: starts the server, then the client, collects.
RunResult measure_raw(Context &ctx, const RunSpec &spec);

} // namespace bench
