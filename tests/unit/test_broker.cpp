// The data plane (core/broker.*) driven through an in-process fake transport:
// protocol conversation, fan-out with delivery counts, flow control, errors.
#include "broker.hpp"
#include "transport.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

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

    explicit Fixture(size_t backlog = 1 << 20) {
        settings.subscriber_backlog_bytes = backlog;
        settings.max_message_size = 4096;
        log.set_verbosity(Level::error);
        table.hub_send = fake_send;
        table.hub_set_receiving = fake_set_receiving;
        table.hub_close = fake_close;
        small.max_frame = 200;
        small.max_message = message_limit(settings.max_message_size, small.max_frame);
        broker = std::make_unique<Broker>(settings, log, "test");
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
    CHECK(fx.take_frames("pub").size() == 4); // the ACKs, after the batch
    CHECK(fx.fakes["sub"].sent.empty());
}
