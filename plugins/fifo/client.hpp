// Client half of the FIFO transport (client.cpp). Contracts: sdk/include/ipchub/plugin.h.
#pragma once

#include "plugin_halves.hpp"

namespace ipchub::fifo {

IPCHUB_DECLARE_CLIENT_HALF();

} // namespace ipchub::fifo
