// The few fixed-layout messages of the mqueue transport's own handshake.
// Everything else on a connection's queues is the hub's frame stream, cut
// packed into queue messages (packer.hpp). Host byte order: both ends run on one host.
#pragma once

#include <cstdint>

namespace ipchub::mqueue {

constexpr uint32_t kWireMagic = 0x514d5049; // "IPMQ" little-endian
constexpr uint16_t kWireVersion = 2; // 2: packed byte stream (1: one frame per message chain)

// Sent by a client on the registration queue after it created its two
// queues. One message, far below any queue's message size, so concurrent
// registrations never interleave: the kernel delivers each one whole.
struct RegisterRequest {
    uint32_t magic;
    uint16_t version;
    uint16_t reserved;
    int32_t pid;  // the client's pid: names its queues and is watched with a pidfd
    uint32_t seq; // the client's connection number within that process
};

// Body of the welcome and refuse control messages (hub -> client).
struct HubAnswer {
    uint32_t magic;
    uint16_t version;
    uint16_t reserved;
    int32_t hub_pid; // the client watches it with a pidfd: a queue has no EOF
    int32_t error;   // refuse: a positive errno saying why; welcome: 0
};

// The registration queue's message size: a request plus room to grow.
constexpr long kRegisterMessageSize = 64;
static_assert(sizeof(RegisterRequest) <= kRegisterMessageSize);

} // namespace ipchub::mqueue
