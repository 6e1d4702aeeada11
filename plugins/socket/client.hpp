// Client half of the socket transport (client.cpp). Contracts: sdk/include/ipchub/plugin.h.
#pragma once

#include "plugin_halves.hpp"

namespace ipchub::socket {

IPCHUB_DECLARE_CLIENT_HALF();

} // namespace ipchub::socket
