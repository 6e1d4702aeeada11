// The C++ client API (sdk/include/ipchub/client.hpp) on top of any transport
// plugin's client half.
#include <ipchub/client.hpp>

#include "config.hpp"
#include "frame.hpp"
#include "paths.hpp"
#include "plugin_registry.hpp"
#include "running_hub.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <exception>
#include <optional>

namespace ipchub {

namespace {
constexpr size_t kBatchBytes = 64 * 1024; // publish_nowait sends once this much is queued
constexpr size_t kRecvChunk = 256 * 1024;
constexpr size_t kMaxIov = 64;
constexpr int kSendSliceMs = 100;   // while blocked sending, drain what the hub sends us this often
constexpr int kCloseFlushMs = 5000; // how long destroying a Client may spend handing over unsent messages
// A STATS answer is the one frame the hub may send beyond the message limit it
// announced (it grows with the number of channels, not with a message). It is
// still bounded, so a lying hub cannot make us buffer gigabytes.
constexpr uint32_t kStatsAnswerMax = 16 * 1024 * 1024;

std::string errno_text(int64_t rc) { return std::strerror(int(-rc)); }

// Why `backend` found no hub: the transport's own words, unless a hub does
// run on the instance, only without that backend.
std::string no_hub_reason(const std::string &backend, const Endpoint &ep, const std::string &transport_says) {
    auto hub = find_running_hub(ep.instance_dir);
    if (!hub) return transport_says;
    std::string offered;
    for (auto &b : hub->backends) offered += (offered.empty() ? "" : ", ") + b;
    bool listed = false;
    for (auto &b : hub->backends) listed = listed || b == backend;
    if (listed) return transport_says; // it offers it: the transport has the better explanation
    return "the hub of instance '" + ep.instance + "' runs (pid " + std::to_string(hub->pid) + ") but does not offer the '" +
           backend + "' backend" + (offered.empty() ? "" : "; it offers: " + offered) +
           " (enable it in the hub's plugins.json, or pick one of those with --backend)";
}
} // namespace

struct Client::Impl {
    std::unique_ptr<LoadedPlugin> plugin;
    void *conn = nullptr;
    std::string backend;
    std::string instance;
    uint32_t max_payload = IPCHUB_DEFAULT_MAX_MESSAGE;
    ByteBuffer out;
    // Until the hub's HELLO answer says otherwise, a frame from the hub is a
    // control frame: a hub (or whoever listens in its place) that announces a
    // 4 GiB frame gets a clear error, not our memory.
    FrameReader reader{kControlPayloadMax};
    std::deque<Message> inbox;
    std::vector<uint8_t> chunk = std::vector<uint8_t>(kRecvChunk);
    size_t delivered = 0; // messages handed to `direct`
    uint64_t next_id = 1;
    bool broken = false;
    const Client::MessageHandler *direct = nullptr; // set during receive_each: DATA bypasses the inbox
    // The hub said goodbye (shutdown, protocol error). Raised only once every
    // message that arrived before it was handed out: nothing is lost.
    std::optional<Error> closed_error;

    std::optional<Error> deferred_refusal; // an ERROR that arrived with another request's reply

    void raise_if_closed() {
        if (deferred_refusal) {
            Error e = *deferred_refusal;
            deferred_refusal.reset();
            throw e;
        }
        if (closed_error) throw *closed_error;
    }

    // What the last reply-wait found.
    struct Reply {
        bool done = false;
        uint32_t count = 0;
        std::string text;
    };

    ~Impl() {
        if (conn) plugin->api().client_close(conn);
    }

    const ipchub_plugin &api() const { return plugin->api(); }

    [[noreturn]] void lost(int64_t rc) {
        broken = true;
        if (rc == -EPIPE) throw Error(Error::Kind::disconnected, "the hub closed the connection (" + backend + ")");
        throw Error(Error::Kind::io, backend + " transport: " + errno_text(rc));
    }

    // Reads once (up to timeout_ms) and files what arrived: DATA into the
    // inbox, the answer to `wait_id` into `reply`. Returns false on timeout.
    bool read_some(int timeout_ms, uint64_t wait_id, Reply &reply) {
        raise_if_closed();
        int64_t n = api().client_recv(conn, chunk.data(), chunk.size(), timeout_ms);
        if (n < 0) lost(n);
        if (n == 0) return false;
        std::string error;
        uint32_t error_code = 0;
        uint64_t error_id = 0;
        std::exception_ptr handler_error;
        bool ok = reader.feed(chunk.data(), size_t(n), [&](const FrameView &f) {
            const auto *payload = reinterpret_cast<const uint8_t *>(f.payload.data());
            switch (f.header.type) {
            case IPCHUB_DATA:
                if (direct) {
                    ++delivered;
                    // A throwing handler must not cut the stream in the middle
                    // of a chunk: finish reassembly, rethrow afterwards.
                    if (!handler_error) {
                        try {
                            (*direct)(f.channel, f.payload, f.header.id);
                        } catch (...) {
                            handler_error = std::current_exception();
                        }
                    } else {
                        inbox.push_back(Message{std::string(f.channel), std::string(f.payload), f.header.id});
                    }
                } else {
                    inbox.push_back(Message{std::string(f.channel), std::string(f.payload), f.header.id});
                }
                break;
            case IPCHUB_ERROR:
                if (f.payload.size() >= 4) error_code = get_u32(payload);
                error = f.payload.size() >= 4 ? std::string(f.payload.substr(4)) : "unspecified error";
                error_id = f.header.id;
                if (f.header.id == wait_id) reply.done = true;
                break;
            default: // HELLO, ACK, STATS answers
                if (f.header.id != wait_id) break;
                reply.done = true;
                if (f.payload.size() >= 4) reply.count = get_u32(payload);
                reply.text = std::string(f.payload);
                break;
            }
        });
        if (handler_error) std::rethrow_exception(handler_error);
        if (!ok) {
            broken = true;
            if (reader.error_code() == IPCHUB_ERR_TOO_LARGE)
                throw Error(Error::Kind::io, "the hub sent more than it announced (" + reader.error() +
                                                 "); not reading it, the connection is closed");
            throw Error(Error::Kind::io, "garbled data from the hub: " + reader.error());
        }
        if (!error.empty()) {
            if (error_code == IPCHUB_ERR_SHUTTING_DOWN || error_code == IPCHUB_ERR_MALFORMED ||
                error_code == IPCHUB_ERR_TOO_LARGE || error_code == IPCHUB_ERR_EVICTED) {
                broken = true;
                closed_error = Error(Error::Kind::disconnected, "the hub closed the connection: " + error);
                if (inbox.empty() && !delivered) throw *closed_error;
                return true;
            }
            Error refusal(Error::Kind::refused, "the hub refused: " + error);
            // An ERROR about an earlier streamed frame must not pose as the
            // answer to the request we wait for (whose reply may be right
            // here): report it with the next call instead.
            if (error_id != wait_id && reply.done) {
                deferred_refusal = refusal;
                return true;
            }
            throw refusal;
        }
        return true;
    }

    // Hands every queued frame to the transport. `max_wait_ms` < 0: as long as
    // it takes (the hub may be pausing us while a subscriber catches up).
    void send_all(int max_wait_ms = -1) {
        Reply ignored;
        auto start = std::chrono::steady_clock::now();
        while (!out.empty()) {
            if (max_wait_ms >= 0 && std::chrono::steady_clock::now() - start > std::chrono::milliseconds(max_wait_ms))
                throw Error(Error::Kind::timeout, "could not hand queued messages to the hub within " +
                                                      std::to_string(max_wait_ms) + " ms");
            iovec iov[kMaxIov];
            size_t offered = 0;
            size_t n = frame_iovecs(out, api().capabilities & IPCHUB_CAP_MESSAGE_BOUNDARIES, iov, kMaxIov, &offered);
            int64_t taken = api().client_send(conn, iov, n, kSendSliceMs);
            if (taken < 0) lost(taken);
            out.consume(size_t(taken));
            // Blocked: the hub may be waiting for us to read (our own
            // acknowledgements or messages), so take in what it has sent.
            if (size_t(taken) < offered) read_some(0, 0, ignored);
        }
    }

    Reply wait_reply(uint64_t id, int timeout_ms) {
        send_all();
        Reply reply;
        while (!reply.done) {
            if (!read_some(timeout_ms, id, reply) && timeout_ms >= 0)
                throw Error(Error::Kind::timeout, "no answer from the hub within " + std::to_string(timeout_ms) + " ms");
        }
        return reply;
    }

    uint64_t queue(uint8_t type, uint16_t flags, std::string_view channel, std::string_view payload) {
        raise_if_closed();
        if (broken) throw Error(Error::Kind::disconnected, "the connection to the hub is closed");
        uint64_t id = next_id++;
        append_frame(out, type, flags, id, channel, payload);
        return id;
    }

    // The largest payload a frame from the hub may carry. The hub announces
    // its message limit in HELLO and sizes frames by frame_limit(): header +
    // the longest channel + that limit (or a control frame's). A frame with a
    // shorter channel may use the rest for payload (the hub delivers what fits
    // the transport's frames), hence + IPCHUB_CHANNEL_MAX.
    uint32_t frame_payload_limit() const {
        return uint32_t(std::min<uint64_t>(uint64_t(std::max(max_payload, kControlPayloadMax)) + IPCHUB_CHANNEL_MAX, UINT32_MAX));
    }

    void check_channel(std::string_view channel) {
        if (!is_valid_channel(channel))
            throw Error(Error::Kind::invalid, "invalid channel name '" + std::string(channel) + "': use " + channel_rule());
    }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::Client(Client &&) noexcept = default;
Client &Client::operator=(Client &&) noexcept = default;
Client::~Client() {
    if (impl_ && !impl_->broken) {
        try {
            impl_->send_all(kCloseFlushMs); // bounded: a destructor must not hang on a paused connection
        } catch (const Error &) {
            // Closing: nobody left to tell.
        }
    }
}

Client Client::connect(const ClientOptions &o) {
    Endpoint ep;
    try {
        ep = resolve_endpoint(o.instance, o.runtime_dir);
    } catch (const std::invalid_argument &e) {
        throw Error(Error::Kind::invalid, e.what());
    }
    std::string config_path = o.config_path.empty() ? find_default_config() : o.config_path;
    if (config_path.empty()) throw Error(Error::Kind::config, "no plugins.json found (set IPCHUB_CONFIG or pass a config path)");
    HubConfig config;
    try {
        config = load_config_file(config_path);
    } catch (const ConfigError &e) {
        throw Error(Error::Kind::config, e.what());
    }
    PluginLoad load = load_backend(config, o.plugin_dir, o.backend);
    if (!load.plugin) throw Error(Error::Kind::backend, load.error);

    auto impl = std::make_unique<Impl>();
    impl->plugin = std::move(load.plugin);
    impl->backend = o.backend;
    impl->instance = ep.instance;
    const PluginSpec *spec = config.find(o.backend);
    ipchub_client_params params{};
    params.abi_version = IPCHUB_ABI_VERSION;
    params.struct_size = sizeof params;
    params.instance = ep.instance.c_str();
    params.runtime_dir = ep.instance_dir.c_str();
    params.config_json = spec->config_json.c_str();
    params.max_frame_size = frame_limit(config.hub.max_message_size, impl->api().max_frame_size);
    params.connect_timeout_ms = o.connect_timeout_ms;
    // A transport that keeps message boundaries hands over whole frames only
    // (plugin.h, client_recv): the buffer must hold the largest one.
    if (impl->api().capabilities & IPCHUB_CAP_MESSAGE_BOUNDARIES && impl->chunk.size() < params.max_frame_size)
        impl->chunk.resize(params.max_frame_size);
    char err[512] = {};
    int rc = impl->api().client_connect(&params, &impl->conn, err, sizeof err);
    if (rc < 0) {
        impl->conn = nullptr;
        std::string why = *err ? err : std::strerror(-rc);
        if (rc != -ENOENT && rc != -ECONNREFUSED) throw Error(Error::Kind::io, o.backend + ": " + why);
        throw Error(Error::Kind::no_hub, o.backend + ": " + no_hub_reason(o.backend, ep, why));
    }
    std::string name = o.name.empty() ? "client" : o.name;
    uint64_t id = impl->queue(IPCHUB_HELLO, 0, {}, u32_payload(uint32_t(::getpid()), name));
    Impl::Reply hello = impl->wait_reply(id, o.connect_timeout_ms);
    if (hello.count) impl->max_payload = hello.count;
    impl->reader.set_max_payload(impl->frame_payload_limit());
    return Client(std::move(impl));
}

void Client::subscribe(std::string_view channel) {
    impl_->check_channel(channel);
    impl_->wait_reply(impl_->queue(IPCHUB_SUBSCRIBE, IPCHUB_FLAG_ACK, channel, {}), -1);
}

void Client::unsubscribe(std::string_view channel) {
    impl_->check_channel(channel);
    impl_->wait_reply(impl_->queue(IPCHUB_UNSUBSCRIBE, IPCHUB_FLAG_ACK, channel, {}), -1);
}

uint32_t Client::publish(std::string_view channel, std::string_view payload) {
    impl_->check_channel(channel);
    if (payload.size() > impl_->max_payload)
        throw Error(Error::Kind::invalid, "message of " + std::to_string(payload.size()) + " bytes exceeds the hub's limit of " +
                                              std::to_string(impl_->max_payload) + " bytes");
    return impl_->wait_reply(impl_->queue(IPCHUB_PUBLISH, IPCHUB_FLAG_ACK, channel, payload), -1).count;
}

void Client::publish_nowait(std::string_view channel, std::string_view payload) {
    impl_->check_channel(channel);
    if (payload.size() > impl_->max_payload)
        throw Error(Error::Kind::invalid, "message of " + std::to_string(payload.size()) + " bytes exceeds the hub's limit of " +
                                              std::to_string(impl_->max_payload) + " bytes");
    impl_->queue(IPCHUB_PUBLISH, 0, channel, payload);
    if (impl_->out.size() >= kBatchBytes) impl_->send_all();
}

void Client::flush() { impl_->send_all(); }

std::optional<Message> Client::receive(int timeout_ms) {
    impl_->send_all();
    Impl::Reply none;
    // A chunk may hold only part of a message: keep reading until the
    // deadline, not for timeout_ms after every chunk.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 0));
    while (impl_->inbox.empty()) {
        int left = timeout_ms;
        if (timeout_ms >= 0) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            left = int(std::max<int64_t>(ms.count(), 0));
        }
        if (!impl_->read_some(left, 0, none) && timeout_ms >= 0) return std::nullopt;
    }
    Message m = std::move(impl_->inbox.front());
    impl_->inbox.pop_front();
    return m;
}

size_t Client::receive_each(const MessageHandler &handler, int timeout_ms) {
    impl_->send_all();
    size_t n = 0;
    while (!impl_->inbox.empty()) {
        Message m = std::move(impl_->inbox.front());
        impl_->inbox.pop_front();
        handler(m.channel, m.payload, m.id);
        ++n;
    }
    if (n) return n;
    Impl::Reply none;
    impl_->direct = &handler;
    impl_->delivered = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(timeout_ms, 0));
    try {
        while (impl_->delivered == 0) {
            int left = timeout_ms;
            if (timeout_ms >= 0) {
                auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
                left = int(std::max<int64_t>(ms.count(), 0));
            }
            if (!impl_->read_some(left, 0, none) && timeout_ms >= 0) break;
        }
    } catch (...) {
        impl_->direct = nullptr;
        throw;
    }
    impl_->direct = nullptr;
    return impl_->delivered;
}

std::string Client::stats() {
    uint64_t id = impl_->queue(IPCHUB_STATS, 0, {}, {});
    impl_->reader.set_max_payload(std::max(impl_->frame_payload_limit(), kStatsAnswerMax));
    struct Restore {
        Impl &impl;
        ~Restore() { impl.reader.set_max_payload(impl.frame_payload_limit()); }
    } restore{*impl_};
    return impl_->wait_reply(id, 5000).text;
}

uint32_t Client::max_message_size() const { return impl_->max_payload; }
const std::string &Client::backend() const { return impl_->backend; }
const std::string &Client::instance() const { return impl_->instance; }

} // namespace ipchub
