#include "broker.hpp"

#include "transport.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

namespace ipchub::core {

namespace {
constexpr size_t kMaxIov = 64;
constexpr uint32_t kMinControlPayload = 4096;

template <typename T> void erase_value(std::vector<T> &v, const T &value) {
    v.erase(std::remove(v.begin(), v.end(), value), v.end());
}

const char *type_name(uint8_t type) {
    switch (type) {
    case IPCHUB_HELLO: return "HELLO";
    case IPCHUB_SUBSCRIBE: return "SUBSCRIBE";
    case IPCHUB_UNSUBSCRIBE: return "UNSUBSCRIBE";
    case IPCHUB_PUBLISH: return "PUBLISH";
    case IPCHUB_DATA: return "DATA";
    case IPCHUB_ACK: return "ACK";
    case IPCHUB_ERROR: return "ERROR";
    case IPCHUB_STATS: return "STATS";
    }
    return "unknown";
}
} // namespace

Broker::Broker(const HubSettings &settings, const Log &log, std::string instance)
    : settings_(settings), log_(log), instance_(std::move(instance)) {}

Connection *Broker::open(Transport *transport, void *plugin_conn, const char *peer) {
    if (shutting_down_) return nullptr;
    // Control frames (HELLO with a client name, ...) may exceed a tiny message
    // limit; PUBLISH payloads are checked against the real limit in handle().
    auto conn = std::make_unique<Connection>(std::max<uint32_t>(settings_.max_message_size, kMinControlPayload));
    conn->id = next_id_++;
    conn->transport = transport;
    conn->plugin_conn = plugin_conn;
    conn->peer = transport->name() + " #" + std::to_string(conn->id);
    if (peer && *peer) conn->peer += std::string(" (") + peer + ")";
    Connection *raw = conn.get();
    connections_.emplace(raw, std::move(conn));
    log_.debug("connected: " + raw->peer);
    return raw;
}

void Broker::received(Connection *conn, const void *data, size_t len) {
    if (conn->closing || !conn->plugin_conn) return;
    bool ok = conn->reader.feed(data, len, [&](const FrameView &f) {
        if (!conn->closing) handle(*conn, f);
    });
    if (!ok && !conn->closing) {
        send_error(*conn, 0, conn->reader.error_code(), conn->reader.error());
        close(*conn, "protocol error: " + conn->reader.error());
    }
    // A client that does not read its own acknowledgements stops being read.
    if (conn->backlog.size() > settings_.subscriber_backlog_bytes) wait_for(*conn, *conn);
}

void Broker::handle(Connection &conn, const FrameView &f) {
    const FrameHeader &h = f.header;
    ++conn.frames_in;
    if (!conn.greeted) {
        if (h.type != IPCHUB_HELLO) {
            send_error(conn, h.id, IPCHUB_ERR_MALFORMED,
                       std::string("expected HELLO as the first frame, got ") + type_name(h.type));
            close(conn, "did not start with HELLO");
            return;
        }
        conn.greeted = true;
        if (f.payload.size() >= 4) {
            uint32_t pid = get_u32(reinterpret_cast<const uint8_t *>(f.payload.data()));
            std::string name(f.payload.substr(4));
            log_.debug(conn.peer + " says hello: pid " + std::to_string(pid) + (name.empty() ? "" : ", " + name));
        }
        // The limit of this client's transport, so the client refuses what it could not carry.
        send_frame(conn, IPCHUB_HELLO, 0, h.id, {}, u32_payload(message_limit(conn), "ipchub hub, instance " + instance_));
        return;
    }
    switch (h.type) {
    case IPCHUB_SUBSCRIBE:
    case IPCHUB_UNSUBSCRIBE: {
        if (!is_valid_channel(f.channel)) {
            send_error(conn, h.id, IPCHUB_ERR_BAD_CHANNEL,
                       "invalid channel name '" + std::string(f.channel) + "': use " + channel_rule());
            return;
        }
        bool sub = h.type == IPCHUB_SUBSCRIBE;
        if (sub)
            router_.subscribe(&conn, f.channel);
        else
            router_.unsubscribe(&conn, f.channel);
        log_.debug(conn.peer + (sub ? " subscribed to " : " unsubscribed from ") + std::string(f.channel));
        if (h.flags & IPCHUB_FLAG_ACK)
            send_frame(conn, IPCHUB_ACK, 0, h.id, f.channel, u32_payload(uint32_t(router_.subscriber_count(f.channel))));
        return;
    }
    case IPCHUB_PUBLISH:
        if (!is_valid_channel(f.channel)) {
            send_error(conn, h.id, IPCHUB_ERR_BAD_CHANNEL,
                       "invalid channel name '" + std::string(f.channel) + "': use " + channel_rule());
            return;
        }
        if (uint32_t limit = message_limit(conn); h.payload_len > limit) {
            send_error(conn, h.id, IPCHUB_ERR_TOO_LARGE,
                       "message of " + std::to_string(h.payload_len) + " bytes exceeds the limit of " +
                           std::to_string(limit) + " bytes" +
                           (limit < settings_.max_message_size ? " of transport '" + conn.transport->name() + "'" : ""));
            return;
        }
        handle_publish(conn, f);
        return;
    case IPCHUB_STATS:
        send_frame(conn, IPCHUB_STATS, 0, h.id, {}, stats_json());
        return;
    case IPCHUB_HELLO:
        send_error(conn, h.id, IPCHUB_ERR_UNSUPPORTED, "HELLO may be sent only once");
        return;
    default:
        send_error(conn, h.id, IPCHUB_ERR_UNSUPPORTED,
                   std::string(type_name(h.type)) + " frames travel from the hub to clients, not back");
        return;
    }
}

void Broker::handle_publish(Connection &from, const FrameView &f) {
    // The DATA frame is the PUBLISH frame with another type and no ACK flag:
    // copy the encoded bytes once per subscriber and patch two header bytes.
    uint32_t count = 0;
    router_.for_each_subscriber(f.channel, [&](Connection *sub) {
        if (sub->closing) return;
        if (f.raw_size > sub->transport->max_frame) {
            too_large_for(*sub, f.raw_size);
            return;
        }
        uint8_t *p = sub->backlog.prepare(f.raw_size);
        std::memcpy(p, f.raw, f.raw_size);
        p[3] = IPCHUB_DATA;
        p[4] = uint8_t(p[4] & ~IPCHUB_FLAG_ACK);
        sub->backlog.commit(f.raw_size);
        ++sub->frames_out;
        ++count;
        queued(*sub);
        if (sub->backlog.size() > settings_.subscriber_backlog_bytes) wait_for(from, *sub);
    });
    ++published_;
    delivered_ += count;
    if (f.header.flags & IPCHUB_FLAG_ACK) send_frame(from, IPCHUB_ACK, 0, f.header.id, f.channel, u32_payload(count));
}

uint32_t Broker::message_limit(const Connection &conn) const {
    return std::min(settings_.max_message_size, conn.transport->max_message);
}

// A subscriber whose transport cannot carry a message (published over a
// transport with larger frames) does not get it: it is not counted as
// delivered, is counted in the stats, and logged once per connection so a
// flood of them cannot flood the log.
void Broker::too_large_for(Connection &sub, size_t frame_size) {
    ++sub.too_large_dropped;
    ++too_large_dropped_;
    if (sub.too_large_dropped == 1)
        log_.warn(sub.peer + ": not delivering a frame of " + std::to_string(frame_size) + " bytes: transport '" +
                  sub.transport->name() + "' carries at most " + std::to_string(sub.transport->max_frame) +
                  " (logged once per connection; see too_large_dropped in the stats)");
}

void Broker::send_frame(Connection &to, uint8_t type, uint16_t flags, uint64_t id, std::string_view channel,
                        std::string_view payload) {
    if (!to.plugin_conn) return;
    if (size_t size = IPCHUB_FRAME_HEADER_SIZE + channel.size() + payload.size(); size > to.transport->max_frame) {
        too_large_for(to, size); // a reply bigger than the transport's frames (a huge STATS): never hand it over
        return;
    }
    append_frame(to.backlog, type, flags, id, channel, payload);
    queued(to);
}

void Broker::send_error(Connection &to, uint64_t id, uint32_t code, const std::string &text) {
    log_.debug(to.peer + ": error: " + text);
    send_frame(to, IPCHUB_ERROR, 0, id, {}, u32_payload(code, text));
}

void Broker::queued(Connection &conn) {
    if (!conn.dirty) {
        conn.dirty = true;
        dirty_.push_back(&conn);
    }
}

void Broker::flush(Connection &conn) {
    Transport &t = *conn.transport;
    while (!conn.backlog.empty() && !conn.awaiting_writable && conn.plugin_conn) {
        iovec iov[kMaxIov];
        size_t offered = 0;
        size_t n = frame_iovecs(conn.backlog, t.keeps_boundaries(), iov, kMaxIov, &offered);
        int64_t taken = t.api().hub_send(t.state, conn.plugin_conn, iov, n);
        if (taken < 0) {
            close(conn, std::string("send failed: ") + std::strerror(int(-taken)));
            return;
        }
        conn.backlog.consume(size_t(taken));
        if (size_t(taken) < offered) conn.awaiting_writable = true;
    }
    if (conn.backlog.size() <= settings_.subscriber_backlog_bytes / 2) release_waiters(conn);
}

void Broker::writable(Connection *conn) {
    conn->awaiting_writable = false;
    queued(*conn);
}

void Broker::set_receiving(Connection &conn, bool on) {
    if (conn.receiving == on || !conn.plugin_conn) return;
    conn.receiving = on;
    conn.transport->api().hub_set_receiving(conn.transport->state, conn.plugin_conn, on ? 1 : 0);
}

void Broker::wait_for(Connection &waiter, Connection &congested) {
    if (std::find(waiter.waiting_on.begin(), waiter.waiting_on.end(), &congested) != waiter.waiting_on.end()) return;
    waiter.waiting_on.push_back(&congested);
    congested.waiters.push_back(&waiter);
    set_receiving(waiter, false);
    log_.debug(waiter.peer + " paused: backlog of " + congested.peer + " is full");
}

void Broker::release_waiters(Connection &conn) {
    if (conn.waiters.empty()) return;
    std::vector<Connection *> waiters;
    waiters.swap(conn.waiters);
    for (Connection *w : waiters) {
        erase_value(w->waiting_on, &conn);
        if (w->waiting_on.empty() && !w->closing && !shutting_down_) set_receiving(*w, true);
    }
}

void Broker::closed_by_peer(Connection *conn, int reason) {
    conn->plugin_conn = nullptr; // the plugin frees it after this call
    close(*conn, reason ? std::string("lost: ") + std::strerror(reason) : "disconnected");
}

void Broker::close(Connection &conn, const std::string &why) {
    if (conn.closing) return;
    conn.closing = true;
    log_.debug(conn.peer + ": " + why);
    closing_.push_back(&conn);
    router_.remove(&conn); // no more deliveries to it
}

void Broker::after_batch() {
    // Swap out first: a flush may queue more (errors) or close connections.
    while (!dirty_.empty()) {
        std::vector<Connection *> batch;
        batch.swap(dirty_);
        for (Connection *c : batch) {
            c->dirty = false;
            flush(*c);
        }
    }
    std::vector<Connection *> closing;
    closing.swap(closing_);
    for (Connection *c : closing) destroy(*c);
}

void Broker::destroy(Connection &conn) {
    for (Connection *congested : conn.waiting_on) erase_value(congested->waiters, &conn);
    conn.waiting_on.clear();
    release_waiters(conn);
    router_.remove(&conn);
    if (conn.plugin_conn) conn.transport->api().hub_close(conn.transport->state, conn.plugin_conn);
    conn.plugin_conn = nullptr;
    erase_value(dirty_, &conn);
    connections_.erase(&conn);
}

void Broker::release_idle_memory() {
    for (auto &[raw, conn] : connections_) conn->backlog.release_if_empty();
}

void Broker::begin_shutdown() {
    shutting_down_ = true;
    for (auto &[raw, conn] : connections_) {
        if (conn->closing) continue;
        set_receiving(*conn, false);
        send_error(*conn, 0, IPCHUB_ERR_SHUTTING_DOWN, "the hub is shutting down");
    }
}

bool Broker::drained() const {
    for (auto &[raw, conn] : connections_)
        if (conn->plugin_conn && !conn->backlog.empty() && !conn->closing) return false;
    return true;
}

void Broker::close_all() {
    for (auto &[raw, conn] : connections_) close(*conn, "hub stopped");
    std::vector<Connection *> closing;
    closing.swap(closing_);
    for (Connection *c : closing) destroy(*c);
}

std::string Broker::stats_json() const {
    nlohmann::json j;
    j["instance"] = instance_;
    j["connections"] = connections_.size();
    j["published"] = published_;
    j["delivered"] = delivered_;
    j["too_large_dropped"] = too_large_dropped_;
    nlohmann::json channels = nlohmann::json::object();
    router_.for_each_channel([&](const std::string &name, size_t subs) { channels[name] = subs; });
    j["channels"] = channels;
    if (transport_names) j["transports"] = transport_names();
    return j.dump();
}

} // namespace ipchub::core
