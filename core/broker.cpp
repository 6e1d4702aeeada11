#include "broker.hpp"

#include "transport.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace ipchub::core {

namespace {
constexpr size_t kMaxIov = 64;
constexpr uint32_t kMinControlPayload = 4096;
// A STATS answer lists at most this many channels (and counts all of them):
// with 100,000 channels a full list would be megabytes per request.
constexpr size_t kStatsChannelsListed = 256;
// How long a connection closed by a hub limit stays open to hand over its
// last bytes (the rest of a frame and the ERROR saying why) if its client
// reads them; it receives nothing and is sent nothing else meanwhile.
constexpr uint64_t kEvictedLingerMs = 5000;

// "pid 12 uid 1000" (plugins/support/peer.*) -> 1000; -1 when the transport
// did not say. Only used to count connections per user: the uid travels in
// the peer description so the ABI needs no new member.
int64_t uid_of(const char *peer) {
    if (!peer) return -1;
    const char *at = std::strstr(peer, "uid ");
    if (!at || (at != peer && at[-1] != ' ')) return -1;
    char *end = nullptr;
    unsigned long long uid = std::strtoull(at + 4, &end, 10);
    if (end == at + 4 || uid > 0xffffffffull) return -1;
    return int64_t(uid);
}

uint64_t steady_ms() {
    return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count());
}

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
    case IPCHUB_GAP: return "GAP";
    }
    return "unknown";
}
} // namespace

Broker::Broker(const HubSettings &settings, const Log &log, std::string instance)
    : clock(steady_ms), settings_(settings), log_(log), instance_(std::move(instance)),
      router_(Router::Limits{settings.max_subscriptions_per_connection, settings.max_channels}) {}

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
    conn->uid = uid_of(peer);
    conn->opened_ms = clock();
    conn->stats_tokens = settings_.stats_per_second;
    conn->stats_refilled_ms = conn->opened_ms;
    Connection *raw = conn.get();
    connections_.emplace(raw, std::move(conn));
    log_.debug("connected: " + raw->peer);
    ++live_connections_;
    size_t of_uid = raw->uid >= 0 ? ++per_uid_[raw->uid] : 0;
    // Over a limit: accepted only to be told why, then closed after this batch.
    if (live_connections_ > settings_.max_connections)
        evict(*raw, IPCHUB_ERR_EVICTED,
              "the hub has its maximum of " + std::to_string(settings_.max_connections) +
                  " connections (hub.max_connections)");
    else if (of_uid > settings_.max_connections_per_uid)
        evict(*raw, IPCHUB_ERR_EVICTED,
              "user " + std::to_string(raw->uid) + " has its maximum of " +
                  std::to_string(settings_.max_connections_per_uid) + " connections (hub.max_connections_per_uid)");
    return raw;
}

void Broker::received(Connection *conn, const void *data, size_t len) {
    if (conn->closing || !conn->plugin_conn) return;
    auto *bytes = static_cast<const uint8_t *>(data);
    // A plugin should not deliver while paused; if it does (or input is
    // still waiting), keep the order: behind what is already waiting.
    if (paused(*conn) || !conn->inbox.empty()) {
        conn->inbox.append(bytes, len);
        return;
    }
    size_t used = consume_input(*conn, bytes, len);
    if (used < len && !conn->closing) conn->inbox.append(bytes + used, len - used);
}

// Handles the frames in `data` until one of them fills a backlog (this
// connection's own answers or a subscriber's) or closes the connection, so
// a backlog is never exceeded by more than one frame, however many requests
// a chunk holds. Returns the bytes taken; the caller keeps the rest.
size_t Broker::consume_input(Connection &conn, const uint8_t *data, size_t len) {
    bool ok = conn.reader.feed(data, len, [&](const FrameView &f) {
        handle(conn, f);
        // A client that does not read its own answers stops being read.
        if (conn.backlog.size() > settings_.subscriber_backlog_bytes) wait_for(conn, conn);
        if (backlog_total_ > settings_.max_backlog_bytes_total) enforce_backlog_budget();
        return !conn.closing && !paused(conn);
    });
    if (!ok) {
        if (!conn.closing) {
            send_error(conn, 0, conn.reader.error_code(), conn.reader.error());
            close(conn, "protocol error: " + conn.reader.error());
        }
        return len;
    }
    count_partial(conn);
    return conn.reader.consumed();
}

// Input left over when the connection paused, handled once it may go on;
// the plugin is asked for more only when none is left.
void Broker::resume(Connection &conn) {
    if (conn.closing || paused(conn) || shutting_down_) return;
    if (!conn.inbox.empty()) conn.inbox.consume(consume_input(conn, conn.inbox.data(), conn.inbox.size()));
    if (conn.inbox.empty() && !paused(conn) && !conn.closing) set_receiving(conn, true);
}

// The hub-wide budget for half-received frames (hub.max_partial_bytes_total):
// the connection whose partial frame grows past it is closed, so a crowd of
// clients each holding almost a whole frame cannot take the hub's memory.
void Broker::count_partial(Connection &conn) {
    size_t now = conn.reader.pending();
    size_t before = conn.partial_counted;
    partial_total_ = partial_total_ - before + now;
    conn.partial_counted = now;
    if (now > before && partial_total_ > settings_.max_partial_bytes_total)
        evict(conn, IPCHUB_ERR_EVICTED,
              "the hub holds its maximum of " + std::to_string(settings_.max_partial_bytes_total) +
                  " bytes of partly received frames for all clients together (hub.max_partial_bytes_total)");
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
    case IPCHUB_UNSUBSCRIBE:
        handle_subscription(conn, f);
        return;
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
        handle_stats(conn, f);
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

void Broker::handle_subscription(Connection &conn, const FrameView &f) {
    const FrameHeader &h = f.header;
    if (!is_valid_channel(f.channel)) {
        send_error(conn, h.id, IPCHUB_ERR_BAD_CHANNEL,
                   "invalid channel name '" + std::string(f.channel) + "': use " + channel_rule());
        return;
    }
    bool sub = h.type == IPCHUB_SUBSCRIBE;
    if (sub) {
        switch (router_.subscribe(&conn, f.channel)) {
        case Router::Subscribed::too_many_subscriptions:
            send_error(conn, h.id, IPCHUB_ERR_LIMIT,
                       "cannot subscribe to '" + std::string(f.channel) + "': this connection has its maximum of " +
                           std::to_string(settings_.max_subscriptions_per_connection) +
                           " subscriptions (hub.max_subscriptions_per_connection)");
            return;
        case Router::Subscribed::too_many_channels:
            send_error(conn, h.id, IPCHUB_ERR_LIMIT,
                       "cannot subscribe to '" + std::string(f.channel) + "': the hub has its maximum of " +
                           std::to_string(settings_.max_channels) + " channels (hub.max_channels)");
            return;
        case Router::Subscribed::added:
        case Router::Subscribed::already: break;
        }
    } else {
        router_.unsubscribe(&conn, f.channel);
    }
    if (log_.enabled(Level::debug))
        log_.debug(conn.peer + (sub ? " subscribed to " : " unsubscribed from ") + std::string(f.channel));
    if (h.flags & IPCHUB_FLAG_ACK)
        send_frame(conn, IPCHUB_ACK, 0, h.id, f.channel, u32_payload(uint32_t(router_.subscriber_count(f.channel))));
}

// STATS costs the hub a walk over its channels and the client an answer of
// up to a few KB: limited per connection to hub.stats_per_second (a token
// bucket, so a burst of that many is fine).
void Broker::handle_stats(Connection &conn, const FrameView &f) {
    uint64_t now = clock();
    double rate = settings_.stats_per_second;
    if (now > conn.stats_refilled_ms)
        conn.stats_tokens = std::min(rate, conn.stats_tokens + double(now - conn.stats_refilled_ms) * rate / 1000.0);
    conn.stats_refilled_ms = now;
    if (conn.stats_tokens < 1.0) {
        send_error(conn, f.header.id, IPCHUB_ERR_LIMIT,
                   "too many STATS requests: at most " + std::to_string(settings_.stats_per_second) +
                       " per second (hub.stats_per_second)");
        return;
    }
    conn.stats_tokens -= 1.0;
    send_frame(conn, IPCHUB_STATS, 0, f.header.id, {}, stats_json());
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
        p[4] = 0; // no flag of the publisher's reaches a subscriber (a PUBLISH marked REPLAY is not a replay)
        p[5] = 0;
        sub->backlog.commit(f.raw_size);
        owe(*sub, f.raw_size);
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
    size_t before = to.backlog.size();
    append_frame(to.backlog, type, flags, id, channel, payload);
    owe(to, to.backlog.size() - before);
    queued(to);
}

void Broker::owe(Connection &conn, size_t bytes) {
    if (conn.backlog.size() == bytes) conn.owed_since_ms = clock(); // was empty
    backlog_total_ += bytes;
}

void Broker::settle(Connection &conn, size_t bytes) {
    backlog_total_ -= bytes;
    if (conn.backlog.empty()) conn.head_remaining = 0;
}

// The hub-wide budget for backlogs (hub.max_backlog_bytes_total): while it
// is exceeded, the subscriber that has owed bytes the longest (it stopped
// reading first) is disconnected. The slow-consumer policies of the delivery
// issue will offer gentler choices; until then one stalled client must not
// take the memory all the others need.
void Broker::enforce_backlog_budget() {
    while (backlog_total_ > settings_.max_backlog_bytes_total) {
        Connection *victim = nullptr;
        for (auto &[raw, c] : connections_) {
            if (c->closing || c->backlog.size() <= c->head_remaining) continue;
            if (!victim || c->owed_since_ms < victim->owed_since_ms ||
                (c->owed_since_ms == victim->owed_since_ms && c->id < victim->id))
                victim = c.get();
        }
        if (!victim) return;
        uint64_t stalled = clock() - victim->owed_since_ms;
        evict(*victim, IPCHUB_ERR_EVICTED,
              "disconnected as the most stalled subscriber (owed " + std::to_string(victim->backlog.size()) +
                  " bytes, unread for " + std::to_string(stalled) + " ms): the backlogs of all clients reached " +
                  std::to_string(settings_.max_backlog_bytes_total) + " bytes (hub.max_backlog_bytes_total)",
              true);
    }
}

// Limits a flood of clients can hit over and over (connections, HELLO
// timeouts, partial frames) log one line per second, with a count.
void Broker::warn_flood(const std::string &text) {
    uint64_t now = clock();
    if (flood_logged_ && now - flood_logged_ms_ < 1000) {
        ++flood_suppressed_;
        return;
    }
    log_.warn(text + (flood_suppressed_ ? " (and " + std::to_string(flood_suppressed_) +
                                              " more closed by hub limits in the last second)"
                                        : ""));
    flood_logged_ = true;
    flood_logged_ms_ = now;
    flood_suppressed_ = 0;
}

// Closes a connection because of a hub limit: its backlog is dropped at once
// (except the rest of a frame the transport already took part of, so the
// stream stays whole), the ERROR naming the limit goes after it, and the log
// says the same.
void Broker::evict(Connection &conn, uint32_t code, const std::string &why, bool every_time) {
    if (conn.closing) return;
    ++evicted_;
    if (every_time)
        log_.warn(conn.peer + ": " + why);
    else
        warn_flood(conn.peer + ": " + why);
    if (conn.backlog.size() > conn.head_remaining) {
        size_t dropped = conn.backlog.size() - conn.head_remaining;
        ByteBuffer kept;
        kept.append(conn.backlog.data(), conn.head_remaining);
        std::swap(conn.backlog, kept);
        settle(conn, dropped);
    }
    send_error(conn, 0, code, why);
    close(conn, why);
    conn.linger_until_ms = clock() + kEvictedLingerMs;
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

// Where the backlog's first frame ends after `taken` more bytes went to the
// transport (head_remaining), so an eviction can keep the stream whole.
void Broker::advance_head(Connection &conn, size_t taken) {
    size_t first = std::min(taken, conn.head_remaining);
    conn.head_remaining -= first;
    const uint8_t *p = conn.backlog.data() + first;
    size_t left = taken - first;
    while (left > 0) {
        FrameHeader h;
        decode_header(p, UINT32_MAX, h, nullptr); // the hub's own frames
        size_t size = h.frame_size();
        if (size > left) {
            conn.head_remaining = size - left;
            return;
        }
        p += size;
        left -= size;
    }
}

void Broker::flush(Connection &conn) {
    if (conn.lingering) {
        flush_backlog(conn);
        if (conn.lingering && conn.backlog.empty()) end_linger(conn); // told: now close
        return;
    }
    flush_backlog(conn);
    if (conn.backlog.size() <= settings_.subscriber_backlog_bytes / 2) release_waiters(conn);
}

void Broker::end_linger(Connection &conn) {
    conn.lingering = false;
    erase_value(lingering_, &conn);
    closing_.push_back(&conn);
}

void Broker::flush_backlog(Connection &conn) {
    Transport &t = *conn.transport;
    while (!conn.backlog.empty() && !conn.awaiting_writable && conn.plugin_conn) {
        iovec iov[kMaxIov];
        size_t offered = 0;
        size_t n = frame_iovecs(conn.backlog, t.keeps_boundaries(), iov, kMaxIov, &offered);
        int64_t taken = t.api().hub_send(t.state, conn.plugin_conn, iov, n);
        if (taken < 0) {
            close(conn, std::string("send failed: ") + std::strerror(int(-taken)));
            if (conn.lingering) end_linger(conn);
            return;
        }
        advance_head(conn, size_t(taken));
        conn.backlog.consume(size_t(taken));
        settle(conn, size_t(taken));
        if (size_t(taken) < offered) conn.awaiting_writable = true;
    }
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
        if (!w->waiting_on.empty() || w->closing || shutting_down_) continue;
        if (w->inbox.empty())
            set_receiving(*w, true);
        else
            resuming_.push_back(w); // its own input first, in after_batch
    }
}

void Broker::closed_by_peer(Connection *conn, int reason) {
    conn->plugin_conn = nullptr; // the plugin frees it after this call
    close(*conn, reason ? std::string("lost: ") + std::strerror(reason) : "disconnected");
    if (conn->lingering) end_linger(*conn);
}

void Broker::close(Connection &conn, const std::string &why) {
    if (conn.closing) return;
    conn.closing = true;
    --live_connections_;
    if (conn.uid >= 0) {
        auto it = per_uid_.find(conn.uid);
        if (it != per_uid_.end() && --it->second == 0) per_uid_.erase(it);
    }
    log_.debug(conn.peer + ": " + why);
    closing_.push_back(&conn);
    router_.remove(&conn); // no more deliveries to it
}

void Broker::after_batch() {
    // Swap out first: a resume or flush may queue more (errors), resume or
    // close connections. Order: input waiting for a released connection,
    // then the backlogs, then the closes (after their last ERROR was offered).
    for (;;) {
        if (!resuming_.empty()) {
            std::vector<Connection *> batch;
            batch.swap(resuming_);
            for (Connection *c : batch) resume(*c);
        } else if (!dirty_.empty()) {
            std::vector<Connection *> batch;
            batch.swap(dirty_);
            for (Connection *c : batch) {
                c->dirty = false;
                flush(*c);
            }
        } else if (!closing_.empty()) {
            std::vector<Connection *> closing;
            closing.swap(closing_);
            for (Connection *c : closing) {
                if (c->linger_until_ms && c->plugin_conn && !c->backlog.empty() && clock() < c->linger_until_ms) {
                    c->lingering = true; // evicted: its last bytes first (flush or the timer ends this)
                    lingering_.push_back(c);
                    continue;
                }
                destroy(*c);
            }
        } else {
            return;
        }
    }
}

void Broker::destroy(Connection &conn) {
    for (Connection *congested : conn.waiting_on) erase_value(congested->waiters, &conn);
    conn.waiting_on.clear();
    release_waiters(conn);
    router_.remove(&conn);
    if (conn.plugin_conn) conn.transport->api().hub_close(conn.transport->state, conn.plugin_conn);
    conn.plugin_conn = nullptr;
    erase_value(dirty_, &conn);
    erase_value(resuming_, &conn);
    erase_value(lingering_, &conn);
    partial_total_ -= conn.partial_counted;
    backlog_total_ -= conn.backlog.size();
    connections_.erase(&conn);
}

void Broker::release_idle_memory() {
    for (auto &[raw, conn] : connections_) {
        conn->backlog.release_if_empty();
        conn->inbox.release_if_empty();
    }
}

uint32_t Broker::hello_check_interval_ms() const {
    return std::clamp<uint32_t>(settings_.hello_timeout_ms / 4, 25, 1000);
}

void Broker::expire_handshakes() {
    uint64_t now = clock();
    std::vector<Connection *> lingering = lingering_;
    for (Connection *c : lingering)
        if (now >= c->linger_until_ms) end_linger(*c);
    for (auto &[raw, conn] : connections_)
        if (!conn->greeted && !conn->closing && now - conn->opened_ms >= settings_.hello_timeout_ms)
            evict(*conn, IPCHUB_ERR_EVICTED,
                  "no HELLO within " + std::to_string(settings_.hello_timeout_ms) + " ms (hub.hello_timeout_ms)");
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
    while (!lingering_.empty()) end_linger(*lingering_.back());
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
    j["evicted"] = evicted_;
    j["backlog_bytes"] = backlog_total_;
    // A summary, not every channel: the answer stays a few KB however many
    // channels there are (channel_count says how many exist).
    nlohmann::json channels = nlohmann::json::object();
    router_.for_each_channel([&](const std::string &name, size_t subs) { channels[name] = subs; }, kStatsChannelsListed);
    j["channels"] = channels;
    j["channel_count"] = router_.channel_count();
    if (transport_names) j["transports"] = transport_names();
    return j.dump();
}

} // namespace ipchub::core
