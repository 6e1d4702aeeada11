// The ipchub_host table the hub gives each plugin: plain C functions that
// find their Transport through host->ctx and forward to the event loop and
// the broker.
#pragma once

#include <ipchub/plugin.h>

namespace ipchub::core {

struct Transport;

// Fills transport.host so that its ctx points at `transport`.
void bind_host(Transport &transport);

} // namespace ipchub::core
