// Hub half of the mqueue transport (hub.cpp). Contracts: sdk/include/ipchub/plugin.h.
#pragma once

#include "plugin_halves.hpp"

namespace ipchub::mqueue {

IPCHUB_DECLARE_HUB_HALF();
IPCHUB_DECLARE_SWEEP();

} // namespace ipchub::mqueue
