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
    // Bytes of the backlog's first frame still to hand over when the
    // transport took only part of it (0: the backlog starts at a frame).
    size_t head_remaining = 0;
    // Bytes the plugin handed over that are not processed yet: reading
    // stopped at the exact frame whose answer or fan-out filled a backlog.
    // At most the rest of one chunk; processed before the plugin is asked for
    // more (resuming).
    ByteBuffer inbox;
    size_t partial_counted = 0; // reader.pending() as counted in the hub-wide partial-frame budget

    int64_t uid = -1;           // the client's user where the transport told it ("uid N" in its peer text)
    uint64_t opened_ms = 0;     // for the HELLO timeout
    uint64_t owed_since_ms = 0; // when the backlog last went from empty to not empty (oldest = most stalled)
    double stats_tokens = 0;    // STATS requests it may still make now (refilled per second)
    uint64_t stats_refilled_ms = 0;

    bool greeted = false;        // HELLO received
    bool receiving = true;       // the plugin is reading from it
    bool awaiting_writable = false; // the plugin took less than offered; it will say when to retry
    bool dirty = false;          // has backlog to flush after this batch
    bool closing = false;        // closes after this batch
    bool lingering = false;      // closed by a hub limit; stays open until its last bytes are handed over
    uint64_t linger_until_ms = 0; // set when a hub limit closed it

    // Flow control: a publisher that fed a full backlog waits for it to drain.
    std::vector<Connection *> waiting_on; // backlogs this connection waits for
    std::vector<Connection *> waiters;    // connections waiting for this backlog

    uint64_t frames_in = 0;
    uint64_t frames_out = 0;
    uint64_t too_large_dropped = 0; // frames its transport could not carry (logged on the first)
};

} // namespace ipchub::core
