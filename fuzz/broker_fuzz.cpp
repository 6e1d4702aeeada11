// libFuzzer harness: the broker (core/broker.*) driven through a fake
// transport, in whatever order the input picks: connections open, bytes
// arrive (well-formed frames or garbage, cut anywhere), clients stop and
// start reading, hang up, time passes, batches end. Tiny limits so every
// budget (backlogs, connections, partial frames, subscriptions, STATS,
// HELLO timeout) is reached. It checks that the broker never crashes and
// keeps the plugin contract of plugin.h:
//  - nothing is sent, paused or closed on a connection after it was closed;
//  - nothing is handed to the plugin from inside conn_received (only the
//    pause of the connection being read);
//  - what each client receives is a stream of whole, valid frames, also
//    when it was disconnected by a budget in the middle of a frame.
#include "broker.hpp"
#include "transport.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

using namespace ipchub;
using namespace ipchub::core;

namespace {

struct FakeConn {
    Connection *host = nullptr;
    FrameReader received_by_client{UINT32_MAX};
    size_t room = SIZE_MAX; // bytes it takes before it stops reading
    bool receiving = true;
    bool closed = false;      // by the hub (hub_close)
    bool hung_up = false;     // by the client (conn_closed)
};

bool inside_received = false;

void check(bool ok) {
    if (!ok) std::abort();
}

int64_t fake_send(void *, void *conn, const struct iovec *iov, size_t n) {
    auto *c = static_cast<FakeConn *>(conn);
    check(!inside_received && !c->closed && !c->hung_up);
    int64_t taken = 0;
    for (size_t i = 0; i < n && c->room > 0; ++i) {
        size_t take = std::min(c->room, iov[i].iov_len);
        check(c->received_by_client.feed(iov[i].iov_base, take, [](const FrameView &) {}));
        if (c->room != SIZE_MAX) c->room -= take;
        taken += int64_t(take);
        if (take < iov[i].iov_len) break;
    }
    return taken;
}
void fake_set_receiving(void *, void *conn, int on) {
    auto *c = static_cast<FakeConn *>(conn);
    check(!c->closed && !c->hung_up);
    check(!inside_received || on == 0); // only a pause from inside conn_received
    c->receiving = on != 0;
}
void fake_close(void *, void *conn) {
    auto *c = static_cast<FakeConn *>(conn);
    check(!inside_received && !c->closed && !c->hung_up);
    c->closed = true;
}

// Reads the input front to back; 0 once it is used up.
struct Input {
    const uint8_t *p;
    size_t left;
    uint8_t byte() {
        if (!left) return 0;
        --left;
        return *p++;
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    HubSettings settings;
    settings.max_message_size = 1024;
    settings.subscriber_backlog_bytes = 4096;
    settings.max_connections = 8;
    settings.max_connections_per_uid = 4;
    settings.hello_timeout_ms = 100;
    settings.max_partial_bytes_total = 8192;
    settings.max_backlog_bytes_total = 16384;
    settings.max_subscriptions_per_connection = 8;
    settings.max_channels = 16;
    settings.stats_per_second = 3;
    Log log;
    log.set_verbosity(Level::error);
    ipchub_plugin table{};
    table.hub_send = fake_send;
    table.hub_set_receiving = fake_set_receiving;
    table.hub_close = fake_close;
    Transport stream{table, "stream"};
    stream.max_frame = frame_limit(settings.max_message_size);
    stream.max_message = message_limit(settings.max_message_size);
    Broker broker(settings, log, "fuzz");
    uint64_t now = 0;
    broker.clock = [&now] { return now; };

    std::vector<std::unique_ptr<FakeConn>> conns;
    static const char *channels[] = {"a", "b", "c.d", "e-f", "g_h", "bad name"};
    auto pick = [&](Input &in) -> FakeConn * {
        if (conns.empty()) return nullptr;
        FakeConn *c = conns[in.byte() % conns.size()].get();
        return c->closed || c->hung_up ? nullptr : c;
    };

    Input in{data, size};
    while (in.left) {
        switch (in.byte() % 9) {
        case 0: { // a client connects (with a uid or none)
            if (conns.size() >= 24) break;
            auto c = std::make_unique<FakeConn>();
            uint8_t who = in.byte();
            std::string peer = who % 4 ? "pid 1 uid " + std::to_string(who % 3) : "";
            c->host = broker.open(&stream, c.get(), peer.c_str());
            if (c->host) conns.push_back(std::move(c));
            break;
        }
        case 1: { // a well-formed frame, maybe cut short
            FakeConn *c = pick(in);
            uint8_t type = uint8_t(1 + in.byte() % 8);
            const char *channel = channels[in.byte() % 6];
            size_t payload = size_t(in.byte()) * (in.byte() % 8 + 1);
            size_t cut = in.byte();
            if (!c || !c->receiving) break;
            ByteBuffer b;
            append_frame(b, type, uint16_t(in.byte() & IPCHUB_FLAG_ACK), 1, type == IPCHUB_HELLO ? "" : channel,
                         std::string(payload, 'p'));
            size_t len = cut < 200 ? b.size() : b.size() * (cut - 200) / 56;
            inside_received = true;
            broker.received(c->host, b.data(), len);
            inside_received = false;
            break;
        }
        case 2: { // raw bytes from the input
            FakeConn *c = pick(in);
            size_t len = std::min<size_t>(in.byte(), in.left);
            if (!c || !c->receiving) {
                in.p += len;
                in.left -= len;
                break;
            }
            inside_received = true;
            broker.received(c->host, in.p, len);
            inside_received = false;
            in.p += len;
            in.left -= len;
            break;
        }
        case 3: { // a burst of requests in one chunk
            FakeConn *c = pick(in);
            size_t n = in.byte();
            uint8_t type = in.byte() % 2 ? IPCHUB_STATS : IPCHUB_PUBLISH;
            if (!c || !c->receiving) break;
            ByteBuffer b;
            for (size_t i = 0; i < n; ++i) append_frame(b, type, IPCHUB_FLAG_ACK, i, type == IPCHUB_STATS ? "" : "a", "0123456789");
            inside_received = true;
            broker.received(c->host, b.data(), b.size());
            inside_received = false;
            break;
        }
        case 4: { // a client reads some, or stops reading
            FakeConn *c = pick(in);
            uint8_t r = in.byte();
            if (!c) break;
            c->room = r == 255 ? SIZE_MAX : size_t(r) * 64;
            if (c->room) broker.writable(c->host);
            break;
        }
        case 5: { // a client hangs up
            FakeConn *c = pick(in);
            if (!c) break;
            c->hung_up = true;
            broker.closed_by_peer(c->host, in.byte() % 2 ? 0 : 104);
            break;
        }
        case 6: broker.after_batch(); break;
        case 7: // time passes
            now += in.byte() * 4;
            broker.expire_handshakes();
            break;
        case 8:
            if (in.byte() % 2)
                broker.release_idle_memory();
            else
                check(!broker.stats_json().empty());
            break;
        }
    }
    broker.after_batch();
    broker.begin_shutdown();
    broker.after_batch();
    broker.close_all();
    for (auto &c : conns) check(c->closed || c->hung_up); // every connection was given back
    return 0;
}
