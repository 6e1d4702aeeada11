// The client half: in a child the hub started, the connection is the pair
// of pipes it inherited (IPCHUB_PIPE_FDS); there is nothing to connect to.
#pragma once

#include "plugin_halves.hpp"

namespace ipchub::pipe {

IPCHUB_DECLARE_CLIENT_HALF();

} // namespace ipchub::pipe
