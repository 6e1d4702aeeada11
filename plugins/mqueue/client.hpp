// Client half of the mqueue transport (client.cpp). Contracts: sdk/include/ipchub/plugin.h.
#pragma once

#include "plugin_halves.hpp"

namespace ipchub::mqueue {

IPCHUB_DECLARE_CLIENT_HALF();

} // namespace ipchub::mqueue
