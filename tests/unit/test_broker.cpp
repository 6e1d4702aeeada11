// The data plane (core/broker.*) driven through an in-process fake transport:
// protocol conversation, fan-out with delivery counts, flow control, errors.
#include "broker.hpp"
#include "transport.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

using namespace ipchub;
using namespace ipchub::core;

namespace {

// A fake client connection: what the hub sent it, and how much the fake
// "socket" accepts per send (to simulate a subscriber that stops reading).
struct FakeConn {
    std::string sent;
    size_t accept_limit = SIZE_MAX; // bytes it takes in total before it is "full"
    bool receiving = true;
    bool closed = false;
};

int64_t fake_send(void *, void *conn, const struct iovec *iov, size_t n) {
    auto *c = static_cast<FakeConn *>(conn);
    int64_t taken = 0;
    for (size_t i = 0; i < n; ++i) {
        size_t room = c->accept_limit - c->sent.size();
        size_t take = std::min(room, iov[i].iov_len);
        c->sent.append(static_cast<const char *>(iov[i].iov_base), take);
        taken += int64_t(take);
        if (take < iov[i].iov_len) break;
    }
    return taken;
}
void fake_set_receiving(void *, void *conn, int on) { static_cast<FakeConn *>(conn)->receiving = on != 0; }
void fake_close(void *, void *conn) { static_cast<FakeConn *>(conn)->closed = true; }

struct Fixture {
    HubSettings settings;
    Log log;
    ipchub_plugin table{};
    Transport transport{table, "fake"};
    Transport small{table, "small"}; // a transport with frames of at most 200 bytes (like a datagram plugin)
    std::unique_ptr<Broker> broker;
    std::map<std::string, FakeConn> fakes;
    std::map<std::string, Connection *> conns;
    uint64_t next_id = 1;

    uint64_t now_ms = 1000; // the broker's clock

    explicit Fixture(size_t backlog = 1 << 20, const std::function<void(HubSettings &)> &tweak = {}) {
        settings.subscriber_backlog_bytes = backlog;
        settings.max_message_size = 4096;
        log.set_verbosity(Level::error);
        table.hub_send = fake_send;
        table.hub_set_receiving = fake_set_receiving;
        table.hub_close = fake_close;
        small.max_frame = 200;
        small.max_message = message_limit(settings.max_message_size, small.max_frame);
        if (tweak) tweak(settings);
        broker = std::make_unique<Broker>(settings, log, "test");
        broker->clock = [this] { return now_ms; };
    }

    // Opens a connection that has not said HELLO yet.
    Connection *open_raw(const std::string &name, const char *peer = nullptr) {
        Connection *c = broker->open(&transport, &fakes[name], peer ? peer : name.c_str());
        conns[name] = c;
        return c;
    }

    std::map<std::string, uint32_t> announced; // the message limit each client's HELLO answer named

    Connection *connect(const std::string &name, Transport *over = nullptr) {
        Connection *c = broker->open(over ? over : &transport, &fakes[name], name.c_str());
        conns[name] = c;
        send(name, IPCHUB_HELLO, 0, "", u32_payload(1, name));
        auto hello = take_frames(name);
        REQUIRE(hello.size() == 1);
        announced[name] = get_u32(reinterpret_cast<const uint8_t *>(hello[0].second.data() + 1)); // after "|"
        return c;
    }

    void send(const std::string &name, uint8_t type, uint16_t flags, std::string_view channel, std::string_view payload) {
        ByteBuffer b;
        append_frame(b, type, flags, next_id++, channel, payload);
        broker->received(conns[name], b.data(), b.size());
        broker->after_batch();
    }

    // Decodes and removes everything the hub sent to `name` so far.
    std::vector<std::pair<FrameHeader, std::string>> take_frames(const std::string &name) {
        std::vector<std::pair<FrameHeader, std::string>> out;
        FrameReader r(UINT32_MAX);
        std::string &sent = fakes[name].sent;
        r.feed(sent.data(), sent.size(), [&](const FrameView &f) {
            out.emplace_back(f.header, std::string(f.channel) + "|" + std::string(f.payload));
        });
        sent.clear();
        return out;
    }

    // Seen the way a client sees it: the STATS answer.
    size_t connection_count() const { return nlohmann::json::parse(broker->stats_json())["connections"]; }

    uint32_t ack_count(const std::string &name) {
        auto frames = take_frames(name);
        REQUIRE(frames.size() == 1);
        REQUIRE(frames[0].first.type == IPCHUB_ACK);
        auto pos = frames[0].second.find('|');
        return get_u32(reinterpret_cast<const uint8_t *>(frames[0].second.data() + pos + 1));
    }
};

} // namespace

TEST_CASE("broker: publish fans out to every subscriber and acknowledges the count") {
    Fixture fx;
    fx.connect("pub");
    for (auto name : {"s1", "s2", "s3"}) {
        fx.connect(name);
        fx.send(name, IPCHUB_SUBSCRIBE, IPCHUB_FLAG_ACK, "test", "");
        fx.take_frames(name);
    }
    fx.connect("other");
    fx.send("other", IPCHUB_SUBSCRIBE, 0, "elsewhere", "");
    fx.send("pub", IPCHUB_PUBLISH, IPCHUB_FLAG_ACK, "test", std::string("Hello\0World", 11));
    CHECK(fx.ack_count("pub") == 3);
    for (auto name : {"s1", "s2", "s3"}) {
        auto frames = fx.take_frames(name);
        REQUIRE(frames.size() == 1);
        CHECK(frames[0].first.type == IPCHUB_DATA);
        CHECK((frames[0].first.flags & IPCHUB_FLAG_ACK) == 0);
        CHECK(frames[0].second == std::string("test|Hello\0World", 16));
    }
    CHECK(fx.take_frames("other").empty());
}

TEST_CASE("broker: unsubscribe and disconnect stop delivery") {
    Fixture fx;
    fx.connect("pub");
    fx.connect("a");
    fx.connect("b");
    fx.send("a", IPCHUB_SUBSCRIBE, 0, "x", "");
    fx.send("b", IPCHUB_SUBSCRIBE, 0, "x", "");
    fx.send("a", IPCHUB_UNSUBSCRIBE, 0, "x", "");
    fx.send("pub", IPCHUB_PUBLISH, IPCHUB_FLAG_ACK, "x", "m1");
    CHECK(fx.ack_count("pub") == 1);
    fx.broker->closed_by_peer(fx.conns["b"], 0);
    fx.broker->after_batch();
    fx.send("pub", IPCHUB_PUBLISH, IPCHUB_FLAG_ACK, "x", "m2");
    CHECK(fx.ack_count("pub") == 0);
    CHECK(fx.take_frames("a").empty());
    CHECK(fx.connection_count() == 2);
    // The plugin reported b closed: the hub must not close it a second time.
    CHECK_FALSE(fx.fakes["b"].closed);
}

TEST_CASE("broker: a congested subscriber that goes away releases the publisher waiting on it") {
    Fixture fx(4096);
    fx.connect("pub");
    fx.connect("slow");
    fx.send("slow", IPCHUB_SUBSCRIBE, 0, "x", "");
    fx.fakes["slow"].accept_limit = fx.fakes["slow"].sent.size();
    std::string payload(1000, 'p');
    for (int i = 0; i < 100 && fx.fakes["pub"].receiving; ++i) fx.send("pub", IPCHUB_PUBLISH, 0, "x", payload);
    REQUIRE_FALSE(fx.fakes["pub"].receiving);
    fx.broker->closed_by_peer(fx.conns["slow"], ECONNRESET);
    fx.broker->after_batch();
    CHECK(fx.fakes["pub"].receiving);
    CHECK(fx.connection_count() == 1);
    // And a paused publisher that goes away is simply forgotten.
    fx.connect("slow2");
    fx.send("slow2", IPCHUB_SUBSCRIBE, 0, "x", "");
    fx.fakes["slow2"].accept_limit = fx.fakes["slow2"].sent.size();
    for (int i = 0; i < 100 && fx.fakes["pub"].receiving; ++i) fx.send("pub", IPCHUB_PUBLISH, 0, "x", payload);
    REQUIRE_FALSE(fx.fakes["pub"].receiving);
    fx.broker->closed_by_peer(fx.conns["pub"], 0);
    fx.broker->after_batch();
    fx.fakes["slow2"].accept_limit = SIZE_MAX;
    fx.broker->writable(fx.conns["slow2"]);
    fx.broker->after_batch(); // must not touch the gone publisher
    CHECK(fx.connection_count() == 1);
}

TEST_CASE("broker: a full subscriber backlog pauses the publisher; draining resumes it; nothing is lost") {
    Fixture fx(4096);
    fx.connect("pub");
    fx.connect("slow");
    fx.send("slow", IPCHUB_SUBSCRIBE, 0, "x", "");
    fx.fakes["slow"].accept_limit = fx.fakes["slow"].sent.size(); // stops reading
    std::string payload(1000, 'p');
    int sent = 0;
    while (fx.fakes["pub"].receiving && sent < 100) {
        fx.send("pub", IPCHUB_PUBLISH, 0, "x", payload);
        ++sent;
    }
    CHECK_FALSE(fx.fakes["pub"].receiving); // paused, not dropped
    CHECK(sent < 10);                        // after about backlog / message size
    // The subscriber reads again: the hub hands over the backlog and resumes the publisher.
    fx.fakes["slow"].accept_limit = SIZE_MAX;
    fx.broker->writable(fx.conns["slow"]);
    fx.broker->after_batch();
    CHECK(fx.fakes["pub"].receiving);
    auto frames = fx.take_frames("slow");
    CHECK(frames.size() == size_t(sent));
}

TEST_CASE("broker: a malformed frame earns an ERROR and closes that connection only") {
    Fixture fx;
    fx.connect("bad");
    fx.connect("good");
    std::string garbage(24, 'z');
    fx.broker->received(fx.conns["bad"], garbage.data(), garbage.size());
    fx.broker->after_batch();
    auto frames = fx.take_frames("bad");
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].first.type == IPCHUB_ERROR);
    CHECK(frames[0].second.find("bad magic") != std::string::npos);
    CHECK(fx.fakes["bad"].closed);
    CHECK_FALSE(fx.fakes["good"].closed);
    CHECK(fx.connection_count() == 1);
}

TEST_CASE("broker: HELLO must come first; bad channels and wrong directions are refused without closing") {
    Fixture fx;
    fx.conns["x"] = fx.broker->open(&fx.transport, &fx.fakes["x"], "x");
    fx.send("x", IPCHUB_SUBSCRIBE, 0, "t", "");
    auto frames = fx.take_frames("x");
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].first.type == IPCHUB_ERROR);
    CHECK(fx.fakes["x"].closed);

    fx.connect("y");
    fx.send("y", IPCHUB_SUBSCRIBE, 0, "bad name", "");
    frames = fx.take_frames("y");
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].second.find("invalid channel name 'bad name'") != std::string::npos);
    fx.send("y", IPCHUB_DATA, 0, "t", "");
    frames = fx.take_frames("y");
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].first.type == IPCHUB_ERROR);
    CHECK_FALSE(fx.fakes["y"].closed);
}

TEST_CASE("broker: stats report channels and counters") {
    Fixture fx;
    fx.connect("a");
    fx.send("a", IPCHUB_SUBSCRIBE, 0, "news", "");
    fx.send("a", IPCHUB_STATS, 0, "", "");
    auto frames = fx.take_frames("a");
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].first.type == IPCHUB_STATS);
    CHECK(frames[0].second.find("\"news\":1") != std::string::npos);
}

TEST_CASE("broker: a transport's frame limit: announced in HELLO, enforced on publish, never exceeded on delivery") {
    Fixture fx;
    fx.connect("pub");
    fx.connect("big");
    fx.connect("tiny", &fx.small);
    CHECK(fx.announced["pub"] == 4096);
    CHECK(fx.announced["tiny"] == 200 - IPCHUB_FRAME_HEADER_SIZE - IPCHUB_CHANNEL_MAX);
    fx.send("big", IPCHUB_SUBSCRIBE, 0, "x", "");
    fx.send("tiny", IPCHUB_SUBSCRIBE, 0, "x", "");

    // Fits both: delivered to both.
    std::string fits(200 - IPCHUB_FRAME_HEADER_SIZE - 1, 'f'); // exactly 200 bytes on channel "x"
    fx.send("pub", IPCHUB_PUBLISH, IPCHUB_FLAG_ACK, "x", fits);
    CHECK(fx.ack_count("pub") == 2);
    CHECK(fx.take_frames("tiny").size() == 1);
    CHECK(fx.take_frames("big").size() == 1);

    // One byte more: the small transport never sees it; not counted as delivered.
    for (int i = 0; i < 3; ++i) {
        fx.send("pub", IPCHUB_PUBLISH, IPCHUB_FLAG_ACK, "x", fits + "!");
        CHECK(fx.ack_count("pub") == 1);
    }
    CHECK(fx.take_frames("tiny").empty());
    CHECK(fx.take_frames("big").size() == 3);
    CHECK(fx.conns["tiny"]->too_large_dropped == 3);
    CHECK(fx.broker->stats_json().find("\"too_large_dropped\":3") != std::string::npos);

    // A client of the small transport may not publish beyond what it was told.
    fx.send("tiny", IPCHUB_PUBLISH, IPCHUB_FLAG_ACK, "x", std::string(fx.announced["tiny"] + 1, 'p'));
    auto frames = fx.take_frames("tiny");
    REQUIRE(frames.size() == 1);
    CHECK(frames[0].first.type == IPCHUB_ERROR);
    CHECK(frames[0].second.find("of transport 'small'") != std::string::npos);
    CHECK(fx.take_frames("big").empty());
}

TEST_CASE("broker: nothing is handed to the plugin from inside conn_received; only after the batch (plugin.h)") {
    Fixture fx(4096); // a small backlog, so the publisher is paused from inside the call
    fx.connect("pub");
    fx.connect("sub");
    fx.send("sub", IPCHUB_SUBSCRIBE, 0, "x", "");
    fx.fakes["sub"].accept_limit = 0; // the subscriber reads nothing: its backlog fills
    ByteBuffer b;
    for (int i = 0; i < 4; ++i) append_frame(b, IPCHUB_PUBLISH, IPCHUB_FLAG_ACK, uint64_t(100 + i), "x", std::string(2000, 'm'));
    fx.broker->received(fx.conns["pub"], b.data(), b.size()); // what conn_received does
    CHECK(fx.fakes["sub"].sent.empty());
    CHECK(fx.fakes["pub"].sent.empty()); // not even the acknowledgements yet
    CHECK_FALSE(fx.fakes["pub"].receiving); // the one re-entrant call: pausing the connection being read
    fx.broker->after_batch();
    // The ACKs, after the batch: of the 3 frames read before the third filled
    // the subscriber's backlog (the pause is exact; the fourth waits).
    CHECK(fx.take_frames("pub").size() == 3);
    CHECK(fx.fakes["sub"].sent.empty());
}

// ---- the hub's budgets against a hostile client (issue 11, items 3, 4, 5, 7) ----

namespace {
std::string frames(size_t n, uint8_t type, std::string_view channel = {}, std::string_view payload = {}) {
    ByteBuffer b;
    for (size_t i = 0; i < n; ++i) append_frame(b, type, 0, i + 1, channel, payload);
    return std::string(reinterpret_cast<const char *>(b.data()), b.size());
}
bool has_error(const std::vector<std::pair<FrameHeader, std::string>> &frames, uint32_t code, const std::string &text) {
    for (auto &[h, body] : frames) {
        if (h.type != IPCHUB_ERROR) continue;
        auto bar = body.find('|');
        if (get_u32(reinterpret_cast<const uint8_t *>(body.data() + bar + 1)) == code &&
            body.find(text) != std::string::npos)
            return true;
    }
    return false;
}
} // namespace

TEST_CASE("broker: STATS requests in one chunk stop at the frame that fills the backlog; the rest waits and is answered later") {
    Fixture fx(64 * 1024, [](HubSettings &s) { s.stats_per_second = 1000000; });
    fx.connect("greedy");
    for (int i = 0; i < 60; ++i) { // a few KB per answer
        fx.connect("s" + std::to_string(i));
        fx.send("s" + std::to_string(i), IPCHUB_SUBSCRIBE, 0, "channel-number-" + std::to_string(i), "");
    }
    size_t answer = fx.broker->stats_json().size() + IPCHUB_FRAME_HEADER_SIZE;
    fx.fakes["greedy"].accept_limit = 0; // it never reads
    const size_t requests = 2000;
    std::string chunk = frames(requests, IPCHUB_STATS);
    fx.broker->received(fx.conns["greedy"], chunk.data(), chunk.size());
    fx.broker->after_batch();
    // The pause is exact: the backlog exceeds its limit by at most one answer.
    CHECK(fx.conns["greedy"]->backlog.size() <= 64 * 1024 + answer);
    CHECK_FALSE(fx.fakes["greedy"].receiving);
    CHECK(fx.conns["greedy"]->inbox.size() < chunk.size());
    // It reads again: the unprocessed rest is answered before the plugin is asked for more.
    fx.fakes["greedy"].accept_limit = SIZE_MAX;
    fx.broker->writable(fx.conns["greedy"]);
    fx.broker->after_batch();
    size_t answered = 0;
    for (auto &[h, body] : fx.take_frames("greedy")) answered += h.type == IPCHUB_STATS;
    CHECK(answered == requests);
    CHECK(fx.fakes["greedy"].receiving);
    CHECK(fx.conns["greedy"]->inbox.empty());
}

TEST_CASE("broker: a STATS answer is a summary of bounded size and STATS is rate-limited per connection") {
    Fixture fx(1 << 20, [](HubSettings &s) { s.stats_per_second = 5; });
    fx.connect("sub");
    for (int i = 0; i < 1000; ++i) fx.send("sub", IPCHUB_SUBSCRIBE, 0, "a-rather-long-channel-name-" + std::to_string(i), "");
    auto stats = nlohmann::json::parse(fx.broker->stats_json());
    CHECK(stats["channel_count"] == 1000);
    CHECK(fx.broker->stats_json().size() < 32 * 1024);
    for (int i = 0; i < 5; ++i) fx.send("sub", IPCHUB_STATS, 0, "", "");
    fx.send("sub", IPCHUB_STATS, 0, "", "");
    auto got = fx.take_frames("sub");
    REQUIRE(got.size() == 6);
    CHECK(got[4].first.type == IPCHUB_STATS);
    CHECK(has_error({got[5]}, IPCHUB_ERR_LIMIT, "hub.stats_per_second"));
    fx.now_ms += 1000; // a second later it may ask again
    fx.send("sub", IPCHUB_STATS, 0, "", "");
    got = fx.take_frames("sub");
    REQUIRE(got.size() == 1);
    CHECK(got[0].first.type == IPCHUB_STATS);
    CHECK_FALSE(fx.fakes["sub"].closed);
}

TEST_CASE("broker: subscriptions per connection and channels per hub are capped with an ERROR naming the key") {
    Fixture fx(1 << 20, [](HubSettings &s) {
        s.max_subscriptions_per_connection = 3;
        s.max_channels = 4;
    });
    fx.connect("a");
    fx.connect("b");
    for (auto ch : {"1", "2", "3"}) fx.send("a", IPCHUB_SUBSCRIBE, 0, ch, "");
    fx.send("a", IPCHUB_SUBSCRIBE, 0, "3", ""); // a duplicate is no new subscription
    fx.send("a", IPCHUB_SUBSCRIBE, IPCHUB_FLAG_ACK, "4", "");
    auto got = fx.take_frames("a");
    REQUIRE(got.size() == 1);
    CHECK(has_error(got, IPCHUB_ERR_LIMIT, "hub.max_subscriptions_per_connection"));
    fx.send("b", IPCHUB_SUBSCRIBE, 0, "4", "");
    fx.send("b", IPCHUB_SUBSCRIBE, 0, "5", "");
    CHECK(has_error(fx.take_frames("b"), IPCHUB_ERR_LIMIT, "hub.max_channels"));
    CHECK_FALSE(fx.fakes["a"].closed); // refused, not disconnected
    fx.send("b", IPCHUB_SUBSCRIBE, IPCHUB_FLAG_ACK, "1", "");
    CHECK(fx.ack_count("b") == 2);
}

TEST_CASE("broker: connections beyond hub.max_connections or hub.max_connections_per_uid are told why and closed") {
    Fixture fx(1 << 20, [](HubSettings &s) {
        s.max_connections = 3;
        s.max_connections_per_uid = 2;
    });
    fx.open_raw("u7a", "pid 1 uid 7");
    fx.open_raw("u7b", "pid 2 uid 7");
    fx.open_raw("u7c", "pid 3 uid 7");
    fx.broker->after_batch();
    CHECK(has_error(fx.take_frames("u7c"), IPCHUB_ERR_EVICTED, "hub.max_connections_per_uid"));
    CHECK(fx.fakes["u7c"].closed);
    fx.open_raw("u8", "pid 4 uid 8");
    fx.open_raw("other", "pid 5");
    fx.broker->after_batch();
    CHECK_FALSE(fx.fakes["u8"].closed);
    CHECK(has_error(fx.take_frames("other"), IPCHUB_ERR_EVICTED, "hub.max_connections"));
    CHECK(fx.fakes["other"].closed);
    fx.broker->closed_by_peer(fx.conns["u7a"], 0);
    fx.broker->after_batch();
    fx.connect("late"); // a slot is free again
    CHECK_FALSE(fx.fakes["late"].closed);
    CHECK(fx.connection_count() == 3);
}

TEST_CASE("broker: a connection that sends no HELLO within hub.hello_timeout_ms is closed; greeted ones stay") {
    Fixture fx(1 << 20, [](HubSettings &s) { s.hello_timeout_ms = 5000; });
    fx.connect("polite");
    fx.open_raw("silent");
    fx.now_ms += 4000;
    fx.broker->expire_handshakes();
    fx.broker->after_batch();
    CHECK_FALSE(fx.fakes["silent"].closed);
    fx.now_ms += 1000;
    fx.broker->expire_handshakes();
    fx.broker->after_batch();
    CHECK(fx.fakes["silent"].closed);
    CHECK(has_error(fx.take_frames("silent"), IPCHUB_ERR_EVICTED, "hub.hello_timeout_ms"));
    CHECK_FALSE(fx.fakes["polite"].closed);
}

TEST_CASE("broker: half-received frames of all clients share hub.max_partial_bytes_total") {
    Fixture fx(1 << 20, [](HubSettings &s) { s.max_partial_bytes_total = 10000; });
    std::string frame = frames(1, IPCHUB_PUBLISH, "x", std::string(4000, 'p'));
    std::string most = frame.substr(0, 3000);
    for (auto name : {"h1", "h2", "h3", "h4"}) {
        fx.connect(name);
        fx.broker->received(fx.conns[name], most.data(), most.size());
        fx.broker->after_batch();
    }
    CHECK_FALSE(fx.fakes["h3"].closed);
    CHECK(fx.fakes["h4"].closed); // 4 x 3000 > 10000
    CHECK(has_error(fx.take_frames("h4"), IPCHUB_ERR_EVICTED, "hub.max_partial_bytes_total"));
    // A completed frame gives its share back.
    std::string rest = frame.substr(3000);
    fx.broker->received(fx.conns["h1"], rest.data(), rest.size());
    fx.connect("h5");
    fx.broker->received(fx.conns["h5"], most.data(), most.size());
    fx.broker->after_batch();
    CHECK_FALSE(fx.fakes["h5"].closed);
}

TEST_CASE("broker: at hub.max_backlog_bytes_total the subscriber stalled longest is disconnected with its stream kept whole") {
    Fixture fx(1 << 20, [](HubSettings &s) { s.max_backlog_bytes_total = 40000; });
    fx.connect("pub");
    for (auto name : {"old", "young", "reader"}) {
        fx.connect(name);
        fx.send(name, IPCHUB_SUBSCRIBE, 0, "x", "");
    }
    std::string payload(1000, 'm');
    fx.fakes["old"].accept_limit = 1500; // takes one and a half frames, then stalls
    fx.send("pub", IPCHUB_PUBLISH, 0, "x", payload);
    fx.send("pub", IPCHUB_PUBLISH, 0, "x", payload);
    fx.now_ms += 5000;
    fx.fakes["young"].accept_limit = fx.fakes["young"].sent.size(); // reads no more from now on
    for (int i = 0; i < 30 && !fx.fakes["old"].closed; ++i) {
        ByteBuffer b;
        append_frame(b, IPCHUB_PUBLISH, 0, 1, "x", payload);
        fx.broker->received(fx.conns["pub"], b.data(), b.size());
        if (fx.conns["old"]->closing) {
            fx.fakes["old"].accept_limit = SIZE_MAX; // let the last bytes out to check the stream
            fx.broker->writable(fx.conns["old"]);
        }
        fx.broker->after_batch();
    }
    INFO(fx.broker->stats_json());
    REQUIRE(fx.fakes["old"].closed);
    CHECK_FALSE(fx.fakes["young"].closed);
    CHECK_FALSE(fx.fakes["pub"].closed);
    CHECK(fx.fakes["pub"].receiving);
    auto old = fx.take_frames("old"); // decodes only if the stream stayed whole
    REQUIRE(old.size() == 3);
    CHECK(old[0].first.type == IPCHUB_DATA);
    CHECK(has_error(old, IPCHUB_ERR_EVICTED, "hub.max_backlog_bytes_total"));
    CHECK(nlohmann::json::parse(fx.broker->stats_json())["evicted"] == 1);
}
