// Anonymous-pipe transport: the plugin table. The hub starts and supervises
// child processes (plugins.json "children" and myipchub --spawn) and talks
// to each over a pair of pipes it inherited. No rendezvous point, nothing
// named to clean up (docs/transports/pipe.md).
//
//   config.*        the plugin's config: children, restart policy, timeouts
//   backoff.hpp     the restart delay schedule
//   spawn.*         fork/exec of one child with the descriptor contract
//   supervisor.cpp  pidfd watching, reaping, restarts, the stop sequence
//   connection.cpp  the hub side of a child's frame pipes (a byte stream)
//   hub.cpp         the hub_* entry points; hub_state.hpp their state
//   client.*        the client half, in the child
//   pipe_env.*      the environment contract between hub and child
#include "client.hpp"
#include "hub.hpp"
#include "plugin_table.hpp"

namespace ipchub::pipe {

IPCHUB_PLUGIN_TABLE(kPlugin,
    .name = "pipe",
    .version = "1.0",
    .description = "anonymous pipes to child processes the hub starts and supervises",
    .capabilities = IPCHUB_CAP_SPAWNED_CHILDREN,
    .max_frame_size = 0,
    IPCHUB_HUB_HALF_MEMBERS,
    .sweep = nullptr, // nothing named: a dead hub's children got SIGTERM (PR_SET_PDEATHSIG)
    IPCHUB_CLIENT_HALF_MEMBERS)

} // namespace ipchub::pipe

IPCHUB_PLUGIN_ENTRY(ipchub::pipe::kPlugin)
