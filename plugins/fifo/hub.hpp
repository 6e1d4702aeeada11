// Hub half of the FIFO transport (hub.cpp). Contracts: sdk/include/ipchub/plugin.h.
#pragma once

#include "plugin_halves.hpp"

namespace ipchub::fifo {

IPCHUB_DECLARE_HUB_HALF();
IPCHUB_DECLARE_SWEEP();

} // namespace ipchub::fifo
