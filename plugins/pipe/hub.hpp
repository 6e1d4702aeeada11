// Hub half of the pipe transport (hub.cpp). Contracts: sdk/include/ipchub/plugin.h.
#pragma once

#include "plugin_halves.hpp"

namespace ipchub::pipe {

IPCHUB_DECLARE_HUB_HALF();

} // namespace ipchub::pipe
