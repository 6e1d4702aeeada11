// One client connection as the core sees it, whatever transport carries it:
// the frame reassembler for what it sends, the bounded backlog of what it
// is owed, and the flow-control links to other connections.
#pragma once

#include "byte_buffer.hpp"
#include "frame.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace ipchub::core {

class Transport;

struct Connection {
    explicit Connection(uint32_t max_payload = IPCHUB_DEFAULT_MAX_MESSAGE) : reader(max_payload) {}

    uint64_t id = 0;
    Transport *transport = nullptr;
    void *plugin_conn = nullptr; // null once the plugin reported it closed
    std::string peer;            // for logs: "socket #3 (pid 1234)"

    FrameReader reader;
    ByteBuffer backlog; // frames owed to the client, oldest first

    bool greeted = false;        // HELLO received
    bool receiving = true;       // the plugin is reading from it
    bool awaiting_writable = false; // the plugin took less than offered; it will say when to retry
    bool dirty = false;          // has backlog to flush after this batch
    bool closing = false;        // closes after this batch

    // Flow control: a publisher that fed a full backlog waits for it to drain.
    std::vector<Connection *> waiting_on; // backlogs this connection waits for
    std::vector<Connection *> waiters;    // connections waiting for this backlog

    uint64_t frames_in = 0;
    uint64_t frames_out = 0;
    uint64_t too_large_dropped = 0; // frames its transport could not carry (logged on the first)
};

} // namespace ipchub::core
