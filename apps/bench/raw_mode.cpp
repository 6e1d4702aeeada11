#include "raw_mode.hpp"

#include "config.hpp"
#include "event_loop.hpp"
#include "frame.hpp"
#include "host_bridge.hpp"
#include "payload.hpp"
#include "paths.hpp"
#include "plugin_registry.hpp"
#include "process.hpp"

#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace bench {

namespace {

using ipchub::ByteBuffer;
using ipchub::FrameView;
using json = nlohmann::json;

constexpr const char *kDataChannel = "bench";
constexpr const char *kResultChannel = "bench.result";
constexpr size_t kBatchBytes = 64 * 1024; // like the client API's publish_nowait batch
constexpr size_t kMaxIov = 64;

struct Plugin {
    ipchub::HubConfig config;
    std::unique_ptr<ipchub::LoadedPlugin> loaded;
    const ipchub_plugin &api() const { return loaded->api(); }
    uint32_t max_frame() const {
        return ipchub::frame_limit(config.hub.max_message_size, api().max_frame_size);
    }
};

Plugin load(const Options &o) {
    Plugin p;
    p.config = ipchub::load_config_file(o.config_path.empty() ? ipchub::find_default_config() : o.config_path);
    ipchub::PluginLoad l = ipchub::load_backend(p.config, o.plugin_dir, o.backend);
    if (!l.plugin) throw std::runtime_error(l.error);
    p.loaded = std::move(l.plugin);
    return p;
}

std::string instance_dir(const Options &o) { return o.runtime_dir + "/" + o.instance; }

// ---------------------------------------------------------------- server ---

// The raw server: core's loop services (the hub's event loop and host
// bridge) with a connection half of its own that takes one client. It sinks
// data messages (verifying each), echoes pings as DATA frames, and answers
// the end marker with a summary on kResultChannel.
class RawServer final : public ipchub::core::ConnectionServices {
public:
    RawServer(const Options &o, Plugin &plugin)
        : o_(o), plugin_(plugin), tracker_(o.messages), warmup_(warmup_pings(o.pings)),
          warm_{warmup_messages(o.messages, o.size)} {
        latencies_.reserve(o.pings);
    }

    int run() {
        const ipchub_plugin &api = plugin_.api();
        ipchub_hub_params params{};
        params.abi_version = IPCHUB_ABI_VERSION;
        params.struct_size = sizeof params;
        std::string dir = instance_dir(o_);
        const ipchub::PluginSpec *spec = plugin_.config.find(o_.backend);
        params.instance = o_.instance.c_str();
        params.runtime_dir = dir.c_str();
        params.config_json = spec->config_json.c_str();
        params.max_frame_size = plugin_.max_frame();
        params.file_mode = plugin_.config.hub.file_mode;
        char err[512] = {};
        if (int rc = api.hub_init(bridge_.host(), &params, &state_, err, sizeof err); rc < 0)
            throw std::runtime_error(std::string("hub_init: ") + (*err ? err : std::strerror(-rc)));
        if (int rc = api.hub_start(state_, err, sizeof err); rc < 0) {
            api.hub_cleanup(state_);
            throw std::runtime_error(std::string("hub_start: ") + (*err ? err : std::strerror(-rc)));
        }
        watch_signals();
        // Never outlive a lost client: give up after the run's timeout without traffic.
        loop_.add_timer(1000, true, [this] {
            if (now_ns() - last_activity_ns_ > uint64_t(o_.timeout_s) * 1000000000ull) {
                error_ = "no traffic for " + std::to_string(o_.timeout_s) + " s";
                loop_.quit();
            }
        });
        write_text_atomic(o_.out_path + ".ready", "ready\n");
        loop_.run();
        api.hub_stop(state_);
        if (conn_) api.hub_close(state_, conn_);
        conn_ = nullptr;
        api.hub_cleanup(state_);
        bridge_.retire();
        if (sigfd_ >= 0) ::close(sigfd_);
        if (!error_.empty()) std::fprintf(stderr, "raw-server: %s\n", error_.c_str());
        return error_.empty() ? 0 : 1;
    }

private:
    static ipchub::core::LoopServices loop_services(ipchub::core::EventLoop &loop) {
        return {&loop, [](ipchub::core::Level level, const std::string &text) {
                    if (level <= ipchub::core::Level::warn) std::fprintf(stderr, "raw-server: %s\n", text.c_str());
                }};
    }

    // ---- connection services: one client per run ----

    void *opened(void *plugin_conn, const char *) override {
        if (conn_) return nullptr;
        conn_ = plugin_conn;
        last_activity_ns_ = now_ns();
        return this;
    }
    void received(void *, const void *data, size_t len) override { receive(data, len); }
    void writable(void *) override { flush(); }
    void closed(void *, int) override {
        conn_ = nullptr; // the plugin frees it
        loop_.quit();
    }

    void watch_signals() {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigprocmask(SIG_BLOCK, &set, nullptr);
        sigfd_ = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sigfd_ >= 0) loop_.watch(sigfd_, IPCHUB_EV_READ, [this](uint32_t) {
            error_ = "stopped by a signal";
            loop_.quit();
        });
    }

    void receive(const void *data, size_t len) {
        last_activity_ns_ = now_ns();
        bool ok = reader_.feed(data, len, [this](const FrameView &f) { on_frame(f); });
        if (!ok) {
            error_ = "malformed stream: " + reader_.error();
            loop_.quit();
        }
    }

    void on_frame(const FrameView &f) {
        uint64_t now = now_ns();
        Stamp s;
        if (f.header.type != IPCHUB_PUBLISH || read_stamp(f.payload.data(), f.payload.size(), s) != Check::ok ||
            f.payload.size() != o_.size) {
            ++corrupt_;
            return;
        }
        switch (s.kind) {
        case Kind::ping:
            if (s.seq >= warmup_) latencies_.push_back(now - s.sent_ns);
            ipchub::append_frame(out_, IPCHUB_DATA, 0, f.header.id, kDataChannel, f.payload);
            flush();
            break;
        case Kind::data:
            tracker_.add(s.seq);
            if (!first_ns_) first_ns_ = now;
            last_ns_ = now;
            break;
        case Kind::warm:
            ++warm_.received;
            break;
        case Kind::end: {
            LatencySummary lat = summarize(latencies_);
            json r = {{"received", tracker_.received()},
                      {"lost", tracker_.lost() + warm_.missing()},
                      {"duplicated", tracker_.duplicated() + warm_.extra()},
                      {"out_of_order", tracker_.out_of_order()},
                      {"corrupt", corrupt_ + tracker_.out_of_range()},
                      {"first_recv_ns", first_ns_},
                      {"last_recv_ns", last_ns_},
                      {"latency", {{"samples", lat.samples}, {"avg_us", lat.avg_us}, {"p50_us", lat.p50_us},
                                   {"p99_us", lat.p99_us}, {"max_us", lat.max_us}}}};
            ipchub::append_frame(out_, IPCHUB_DATA, 0, f.header.id, kResultChannel, r.dump());
            flush();
            break;
        }
        default:
            ++corrupt_;
        }
    }

    void flush() {
        const ipchub_plugin &api = plugin_.api();
        bool per_frame = api.capabilities & IPCHUB_CAP_MESSAGE_BOUNDARIES;
        while (conn_ && !out_.empty()) {
            iovec iov[kMaxIov];
            size_t offered = 0;
            size_t n = ipchub::frame_iovecs(out_, per_frame, iov, kMaxIov, &offered);
            int64_t taken = api.hub_send(state_, conn_, iov, n);
            if (taken < 0) {
                error_ = std::string("hub_send: ") + std::strerror(int(-taken));
                loop_.quit();
                return;
            }
            out_.consume(size_t(taken));
            if (size_t(taken) < offered) return; // conn_writable calls again
        }
    }

    const Options &o_;
    Plugin &plugin_;
    ipchub::core::EventLoop loop_;
    ipchub::core::HostBridge bridge_{loop_services(loop_), *this};
    void *state_ = nullptr;
    void *conn_ = nullptr;
    int sigfd_ = -1;
    ipchub::FrameReader reader_{UINT32_MAX};
    ByteBuffer out_;
    SequenceTracker tracker_;
    uint64_t warmup_;
    WarmupCounter warm_;
    std::vector<uint64_t> latencies_;
    uint64_t corrupt_ = 0, first_ns_ = 0, last_ns_ = 0, last_activity_ns_ = now_ns();
    std::string error_;
};

// ---------------------------------------------------------------- client ---

class RawClient {
public:
    RawClient(const Options &o, Plugin &plugin) : o_(o), plugin_(plugin), buf_(256 * 1024) {}
    ~RawClient() {
        if (conn_) plugin_.api().client_close(conn_);
    }

    json run() {
        const ipchub_plugin &api = plugin_.api();
        std::string dir = instance_dir(o_);
        const ipchub::PluginSpec *spec = plugin_.config.find(o_.backend);
        ipchub_client_params params{};
        params.abi_version = IPCHUB_ABI_VERSION;
        params.struct_size = sizeof params;
        params.instance = o_.instance.c_str();
        params.runtime_dir = dir.c_str();
        params.config_json = spec->config_json.c_str();
        params.max_frame_size = plugin_.max_frame();
        params.connect_timeout_ms = 5000;
        char err[512] = {};
        if (int rc = api.client_connect(&params, &conn_, err, sizeof err); rc < 0) {
            conn_ = nullptr;
            throw std::runtime_error(std::string("client_connect: ") + (*err ? err : std::strerror(-rc)));
        }
        deadline_ns_ = now_ns() + uint64_t(o_.timeout_s) * 1000000000ull;

        Stamper stamper(o_.size);
        uint64_t id = 1;
        // Warm-up stream; the first ping's echo proves it was all delivered.
        for (uint64_t i = 0, n = warmup_messages(o_.messages, o_.size); i < n; ++i) {
            ipchub::append_frame(out_, IPCHUB_PUBLISH, 0, id++, kDataChannel,
                                 stamper.make({Kind::warm, 0, i, now_ns()}));
            if (out_.size() >= kBatchBytes) send_all();
        }
        // Latency: one ping in flight; the server stamps the arrival.
        uint64_t total_pings = warmup_pings(o_.pings) + o_.pings;
        for (uint64_t i = 0; i < total_pings; ++i) {
            ipchub::append_frame(out_, IPCHUB_PUBLISH, 0, id++, kDataChannel,
                                 stamper.make({Kind::ping, 0, i, now_ns()}));
            send_all();
            bool echoed = false;
            while (!echoed) read_frames([&](const FrameView &f) {
                Stamp s;
                if (f.header.type == IPCHUB_DATA && read_stamp(f.payload.data(), f.payload.size(), s) == Check::ok &&
                    s.kind == Kind::ping && s.seq == i)
                    echoed = true;
            });
        }
        // Throughput: stream everything in batches, then the end marker.
        uint64_t t0 = now_ns();
        for (uint64_t i = 0; i < o_.messages; ++i) {
            ipchub::append_frame(out_, IPCHUB_PUBLISH, 0, id++, kDataChannel,
                                 stamper.make({Kind::data, 0, i, now_ns()}));
            if (out_.size() >= kBatchBytes) send_all();
        }
        ipchub::append_frame(out_, IPCHUB_PUBLISH, 0, id++, kDataChannel,
                             stamper.make({Kind::end, 0, o_.messages, now_ns()}));
        send_all();
        json summary;
        while (summary.is_null()) read_frames([&](const FrameView &f) {
            if (f.header.type == IPCHUB_DATA && f.channel == kResultChannel) summary = json::parse(f.payload);
        });
        summary["t0_ns"] = t0;
        return summary;
    }

private:
    void check_deadline() {
        if (now_ns() > deadline_ns_) throw std::runtime_error("timed out after " + std::to_string(o_.timeout_s) + " s");
    }

    void send_all() {
        const ipchub_plugin &api = plugin_.api();
        bool per_frame = api.capabilities & IPCHUB_CAP_MESSAGE_BOUNDARIES;
        while (!out_.empty()) {
            iovec iov[kMaxIov];
            size_t offered = 0;
            size_t n = ipchub::frame_iovecs(out_, per_frame, iov, kMaxIov, &offered);
            int64_t taken = api.client_send(conn_, iov, n, 1000);
            if (taken < 0) throw std::runtime_error(std::string("client_send: ") + std::strerror(int(-taken)));
            out_.consume(size_t(taken));
            if (taken == 0) check_deadline();
        }
    }

    template <typename OnFrame> void read_frames(OnFrame &&on_frame) {
        int64_t n = plugin_.api().client_recv(conn_, buf_.data(), buf_.size(), 1000);
        if (n < 0) throw std::runtime_error(std::string("client_recv: ") + std::strerror(int(-n)));
        if (n == 0) return check_deadline();
        if (!reader_.feed(buf_.data(), size_t(n), on_frame)) throw std::runtime_error("malformed reply: " + reader_.error());
    }

    const Options &o_;
    Plugin &plugin_;
    void *conn_ = nullptr;
    ByteBuffer out_;
    std::vector<uint8_t> buf_;
    ipchub::FrameReader reader_{UINT32_MAX};
    uint64_t deadline_ns_ = 0;
};

} // namespace

int raw_server_main(const Options &o) {
    try {
        Plugin plugin = load(o);
        RawServer server(o, plugin);
        return server.run();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "raw-server (%s): %s\n", o.backend.c_str(), e.what());
        return 1;
    }
}

int raw_client_main(const Options &o) {
    json result;
    try {
        Plugin plugin = load(o);
        RawClient client(o, plugin);
        result = client.run();
    } catch (const std::exception &e) {
        result = {{"error", std::string("raw client (") + o.backend + "): " + e.what()}};
    }
    write_text_atomic(o.out_path, result.dump());
    return result.contains("error") ? 1 : 0;
}

RunResult measure_raw(Context &ctx, const RunSpec &spec) {
    RunResult r;
    r.spec = spec;
    const Backend *b = ctx.installation.find(spec.publisher);
    if (b->capabilities & IPCHUB_CAP_SPAWNED_CHILDREN) {
        r.status = Status::skipped;
        r.reason = spec.publisher + " needs a hub-spawned child: no raw mode";
        return r;
    }
    if (uint64_t limit = ctx.installation.max_payload({b}); spec.size > limit) {
        r.status = Status::skipped;
        r.reason = spec.publisher + " carries at most " + std::to_string(limit) + " payload bytes";
        return r;
    }
    std::string prefix = ctx.next_run_prefix();
    std::string instance = ctx.instance_base + "-raw";
    std::string dir = ctx.runtime_base + "/" + instance;
    std::error_code ec;
    if (ipchub::make_dirs(dir, 0700) != 0) {
        r.status = Status::failed;
        r.reason = "cannot create " + dir;
        return r;
    }
    auto fail = [&](const std::string &why) {
        r.status = Status::failed;
        r.reason = why;
    };
    std::string server_out = prefix + "-server.json", client_out = prefix + "-client.json";
    std::string log = prefix + ".log";
    auto args = [&](const std::string &role, const std::string &out) {
        auto a = ctx.worker_args(role, spec.publisher, spec);
        a.insert(a.end(), {"--instance", instance, "--runtime-dir", ctx.runtime_base, "--out", out});
        return a;
    };
    pid_t server = spawn(args("raw-server", server_out), log);
    bool server_ready = wait_until([&] { return file_exists(server_out + ".ready") || wait_exit(server, 0) >= 0; }, 10000);
    if (!server_ready || !file_exists(server_out + ".ready")) {
        fail("raw server did not start: " + log_tail(log));
    } else {
        pid_t client = spawn(args("raw-client", client_out), log);
        int rc = -1;
        wait_until([&] { return (rc = wait_exit(client, 0)) >= 0; }, int(ctx.options->timeout_s) * 1000 + 5000, 20);
        if (rc < 0) {
            stop_process(client, SIGKILL, 1000);
            fail(interrupted() ? "interrupted" : "timed out after " + std::to_string(ctx.options->timeout_s) + " s");
        } else {
            json c = json::parse(read_text(client_out), nullptr, false);
            if (c.is_discarded()) fail("raw client exited " + std::to_string(rc) + ": " + log_tail(log));
            else if (c.contains("error")) fail(c["error"].get<std::string>());
            else {
                r.delivered = c["received"];
                r.lost = c["lost"];
                r.duplicated = c["duplicated"];
                r.out_of_order = c["out_of_order"];
                r.corrupt = c["corrupt"];
                uint64_t t0 = c["t0_ns"], last = c["last_recv_ns"];
                r.seconds = last > t0 ? double(last - t0) / 1e9 : 0;
                if (r.seconds > 0) {
                    r.msgs_per_s = double(r.delivered) / r.seconds;
                    r.mb_per_s = double(r.delivered) * double(spec.size) / 1e6 / r.seconds;
                }
                auto &l = c["latency"];
                r.latency = {l["samples"], l["avg_us"], l["p50_us"], l["p99_us"], l["max_us"]};
            }
        }
    }
    // The server quits when its client disconnects; a stuck one is asked to clean up.
    if (wait_exit(server, 5000) < 0 && stop_process(server, SIGTERM, 5000) != 0 && r.status == Status::ok)
        fail("raw server did not stop cleanly: " + log_tail(log));
    std::filesystem::path d(dir);
    if (!std::filesystem::is_empty(d, ec)) {
        std::fprintf(stderr, "myipcbench: warning: the %s plugin left files in %s; removing them\n", spec.publisher.c_str(),
                     dir.c_str());
        std::filesystem::remove_all(d, ec);
    } else {
        std::filesystem::remove(d, ec);
    }
    r.judge();
    return r;
}

} // namespace bench
