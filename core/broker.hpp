// The data plane: connections, the protocol conversation with each client,
// fan-out of published messages into subscribers' backlogs, flow control and
// the batched flush of those backlogs to the transports. Runs on the hub
// thread only; transports reach it through the host bridge.
#pragma once

#include "config.hpp"
#include "connection.hpp"
#include "log.hpp"
#include "router.hpp"

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace ipchub::core {

class Transport;

class Broker {
public:
    Broker(const HubSettings &settings, const Log &log, std::string instance);

    // Called through the host bridge.
    Connection *open(Transport *transport, void *plugin_conn, const char *peer);
    void received(Connection *conn, const void *data, size_t len);
    void writable(Connection *conn);
    void closed_by_peer(Connection *conn, int reason);

    // After every batch of events: flush backlogs, then finish closes.
    void after_batch();

    // Shutdown: tell every client and stop reading from them; drained() turns
    // true once every backlog was handed to its transport.
    void begin_shutdown();
    bool drained() const;
    void close_all();

    // Frees the memory of empty backlogs (after a burst); called from an idle timer.
    void release_idle_memory();

    // Closes connections that did not say HELLO within hub.hello_timeout_ms
    // and ends the linger of evicted ones; called from a timer
    // (hello_check_interval_ms()).
    void expire_handshakes();
    uint32_t hello_check_interval_ms() const;

    // Milliseconds of a monotonic clock; tests and the fuzzer replace it.
    std::function<uint64_t()> clock;

    std::string stats_json() const;
    // Used by stats: names of the running transports.
    std::function<std::vector<std::string>()> transport_names;

private:
    size_t consume_input(Connection &conn, const uint8_t *data, size_t len);
    void resume(Connection &conn);
    bool paused(const Connection &conn) const { return !conn.waiting_on.empty(); }
    void count_partial(Connection &conn);
    void handle(Connection &conn, const FrameView &frame);
    void handle_subscription(Connection &conn, const FrameView &frame);
    void handle_stats(Connection &conn, const FrameView &frame);
    void handle_publish(Connection &from, const FrameView &frame);
    void send_frame(Connection &to, uint8_t type, uint16_t flags, uint64_t id, std::string_view channel,
                    std::string_view payload);
    uint32_t message_limit(const Connection &conn) const;
    void too_large_for(Connection &sub, size_t frame_size);
    void send_error(Connection &to, uint64_t id, uint32_t code, const std::string &text);
    void queued(Connection &conn);
    void owe(Connection &conn, size_t bytes);    // the backlog grew
    void settle(Connection &conn, size_t bytes); // the backlog shrank
    void enforce_backlog_budget();
    void evict(Connection &conn, uint32_t code, const std::string &why, bool every_time = false);
    void warn_flood(const std::string &text);
    void flush(Connection &conn);
    void advance_head(Connection &conn, size_t taken);
    void flush_backlog(Connection &conn);
    void end_linger(Connection &conn);
    void set_receiving(Connection &conn, bool on);
    void wait_for(Connection &waiter, Connection &congested);
    void release_waiters(Connection &conn);
    void close(Connection &conn, const std::string &why);
    void destroy(Connection &conn);

    HubSettings settings_;
    const Log &log_;
    std::string instance_;
    Router router_;
    uint64_t next_id_ = 1;
    std::unordered_map<Connection *, std::unique_ptr<Connection>> connections_;
    std::vector<Connection *> dirty_;
    std::vector<Connection *> closing_;
    std::vector<Connection *> resuming_; // released from waiting with unprocessed input
    std::vector<Connection *> lingering_; // evicted, handing over their last bytes
    size_t live_connections_ = 0;        // not closing
    std::unordered_map<int64_t, size_t> per_uid_; // live connections per known uid
    size_t partial_total_ = 0;           // sum of Connection::partial_counted
    size_t backlog_total_ = 0;           // sum of the backlogs
    uint64_t evicted_ = 0;               // connections closed by a hub-wide budget
    bool flood_logged_ = false;          // warn_flood: when it last wrote, and what it left out since
    uint64_t flood_logged_ms_ = 0;
    uint64_t flood_suppressed_ = 0;
    bool shutting_down_ = false;
    uint64_t published_ = 0;
    uint64_t delivered_ = 0;
    uint64_t too_large_dropped_ = 0; // frames a subscriber's transport could not carry
};

} // namespace ipchub::core
