#include "hub_mode.hpp"

#include "payload.hpp"
#include "process.hpp"

#include <ipchub/client.hpp>
#include <ipchub/plugin.h>

#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace bench {

namespace {

using json = nlohmann::json;

ipchub::ClientOptions client_options(const Options &o, const std::string &name) {
    ipchub::ClientOptions c;
    c.backend = o.backend;
    c.instance = o.instance;
    c.runtime_dir = o.runtime_dir;
    c.config_path = o.config_path;
    c.plugin_dir = o.plugin_dir;
    c.name = name;
    return c;
}

std::string pong_channel(const std::string &channel) { return channel + ".pong"; }

int timeout_ms(const Options &o) { return int(o.timeout_s) * 1000; }

// Next message or an exception naming what was awaited.
ipchub::Message receive_or_throw(ipchub::Client &c, const Options &o, const char *what) {
    auto m = c.receive(timeout_ms(o));
    if (!m) throw std::runtime_error(std::string("no ") + what + " within " + std::to_string(o.timeout_s) + " s");
    return std::move(*m);
}

int finish(const Options &o, json result) {
    write_text_atomic(o.out_path, result.dump());
    return result.contains("error") ? 1 : 0;
}

} // namespace

int hub_subscriber_main(const Options &o) {
    json result = {{"index", o.index}};
    try {
        auto client = ipchub::Client::connect(client_options(o, "myipcbench-sub" + std::to_string(o.index)));
        client.subscribe(o.channel);
        write_text_atomic(o.out_path + ".ready", "ready\n");
        const std::string pongs = pong_channel(o.channel);
        Stamper answer(kStampSize);
        SequenceTracker tracker(o.messages);
        WarmupCounter warm{warmup_messages(o.messages, o.size)};
        std::vector<uint64_t> latencies;
        uint64_t warmup = warmup_pings(o.pings);
        latencies.reserve(o.pings);
        uint64_t corrupt = 0, first = 0, last = 0;
        for (bool done = false; !done;) {
            ipchub::Message m = receive_or_throw(client, o, "message");
            uint64_t now = now_ns();
            Stamp s;
            if (read_stamp(m.payload.data(), m.payload.size(), s) != Check::ok || m.payload.size() != o.size) {
                ++corrupt;
                continue;
            }
            switch (s.kind) {
            case Kind::ping:
                if (s.seq >= warmup) latencies.push_back(now - s.sent_ns);
                client.publish_nowait(pongs, answer.make({Kind::pong, uint16_t(o.index), s.seq, now}));
                client.flush();
                break;
            case Kind::data:
                tracker.add(s.seq);
                if (!first) first = now;
                last = now;
                break;
            case Kind::warm:
                ++warm.received;
                break;
            case Kind::end:
                client.publish_nowait(pongs, answer.make({Kind::end, uint16_t(o.index), s.seq, now}));
                client.flush();
                done = true;
                break;
            default:
                ++corrupt;
            }
        }
        result.update({{"received", tracker.received()},
                       {"lost", tracker.lost() + warm.missing()},
                       {"duplicated", tracker.duplicated() + warm.extra()},
                       {"out_of_order", tracker.out_of_order()},
                       {"corrupt", corrupt + tracker.out_of_range()},
                       {"first_recv_ns", first},
                       {"last_recv_ns", last},
                       {"latency_ns", latencies}});
    } catch (const std::exception &e) {
        result["error"] = "subscriber " + std::to_string(o.index) + " (" + o.backend + "): " + e.what();
    }
    return finish(o, result);
}

int hub_publisher_main(const Options &o) {
    json result;
    try {
        auto client = ipchub::Client::connect(client_options(o, "myipcbench-pub"));
        client.subscribe(pong_channel(o.channel));
        if (!wait_until([&] { return file_exists(o.go_path); }, timeout_ms(o)))
            throw std::runtime_error("the subscribers never became ready");
        Stamper stamper(o.size);
        // Waits for one answer of `kind` to `seq` from every subscriber.
        auto await_answers = [&](Kind kind, uint64_t seq, const char *what) {
            for (unsigned got = 0; got < o.subscribers;) {
                ipchub::Message m = receive_or_throw(client, o, what);
                Stamp s;
                if (read_stamp(m.payload.data(), m.payload.size(), s) == Check::ok && s.kind == kind && s.seq == seq) ++got;
            }
        };
        // Warm-up stream; the first ping's answer proves it was all delivered.
        for (uint64_t i = 0, n = warmup_messages(o.messages, o.size); i < n; ++i)
            client.publish_nowait(o.channel, stamper.make({Kind::warm, 0, i, now_ns()}));
        uint64_t total_pings = warmup_pings(o.pings) + o.pings;
        for (uint64_t i = 0; i < total_pings; ++i) {
            client.publish_nowait(o.channel, stamper.make({Kind::ping, 0, i, now_ns()}));
            client.flush();
            await_answers(Kind::pong, i, "answer to a ping");
        }
        uint64_t t0 = now_ns();
        for (uint64_t i = 0; i < o.messages; ++i) client.publish_nowait(o.channel, stamper.make({Kind::data, 0, i, now_ns()}));
        client.flush();
        uint64_t sent = now_ns();
        client.publish_nowait(o.channel, stamper.make({Kind::end, 0, o.messages, now_ns()}));
        client.flush();
        await_answers(Kind::end, o.messages, "end-of-stream answer");
        result = {{"t0_ns", t0}, {"sent_ns", sent}};
    } catch (const std::exception &e) {
        result["error"] = "publisher (" + o.backend + "): " + e.what();
    }
    return finish(o, result);
}

namespace {

// One hub-mode run, step by step: measure_hub below reads as the sequence.
// Every step after the first failure does nothing but clean up, and the
// first failure is the reason reported.
class HubRun {
public:
    HubRun(Context &ctx, const RunSpec &spec) : ctx_(ctx), o_(*ctx.options) { r_.spec = spec; }

    // Some pairings cannot be measured (here); r_ then says why it was skipped.
    bool applicable() {
        pb_ = ctx_.installation.find(r_.spec.publisher);
        sb_ = ctx_.installation.find(r_.spec.subscriber);
        pub_spawned_ = pb_->capabilities & IPCHUB_CAP_SPAWNED_CHILDREN;
        sub_spawned_ = sb_->capabilities & IPCHUB_CAP_SPAWNED_CHILDREN;
        if ((pub_spawned_ || sub_spawned_) && o_.use_running_hub)
            return skip("pipe needs a hub-spawned child: not possible with --use-running-hub");
        prefix_ = ctx_.next_run_prefix();
        channel_ = "bench" + std::to_string(::getpid()) + "." + std::to_string(ctx_.runs);
        if (uint64_t limit = ctx_.installation.max_payload({pb_, sb_});
            r_.spec.size > limit)
            return skip("at most " + std::to_string(limit) + " payload bytes fit these transports");
        return true;
    }

    // The command lines of the subscribers and the publisher, and their result files.
    void plan_workers() {
        instance_ = o_.use_running_hub ? o_.instance : ctx_.instance_base + "-hub";
        runtime_ = o_.use_running_hub ? o_.runtime_dir : ctx_.runtime_base;
        log_ = prefix_ + ".log";
        go_ = prefix_ + ".go";
        pub_out_ = prefix_ + "-pub.json";
        for (unsigned i = 0; i < r_.spec.subscribers; ++i) {
            sub_outs_.push_back(prefix_ + "-sub" + std::to_string(i) + ".json");
            auto a = worker_argv("hub-sub", r_.spec.subscriber, sub_outs_.back());
            a.insert(a.end(), {"--index", std::to_string(i)});
            sub_argv_.push_back(a);
        }
        pub_argv_ = worker_argv("hub-pub", r_.spec.publisher, pub_out_);
        pub_argv_.insert(pub_argv_.end(), {"--go", go_});
    }

    // A private hub (unless --use-running-hub), with the pipe workers as its children.
    bool start_hub() {
        if (o_.use_running_hub) return true;
        std::string hub_log = prefix_ + "-hub.log";
        std::vector<std::string> h{ctx_.hub_exe, "--instance", instance_, "--runtime-dir", runtime_,
                                   "--config", ctx_.installation.config_path, "--plugin-dir",
                                   ctx_.installation.plugin_dir, "-q", "--spin-us", std::to_string(o_.spin_us)};
        // Children of the hub see its stdout; keep their output in our log too.
        auto spawn_arg = [&](const std::vector<std::string> &argv) {
            return shell_quote(argv) + " >>" + shell_quote({log_}) + " 2>&1";
        };
        if (sub_spawned_)
            for (auto &a : sub_argv_) h.insert(h.end(), {"--spawn", spawn_arg(a)});
        if (pub_spawned_) h.insert(h.end(), {"--spawn", spawn_arg(pub_argv_)});
        hub_ = spawn(h, hub_log);
        auto listening = [&] { return read_text(hub_log).find("Listening for connections...") != std::string::npos; };
        bool up = wait_until([&] { return listening() || wait_exit(hub_, 0) >= 0; }, 10000);
        if (up && listening()) return true;
        fail("the hub did not start: " + log_tail(hub_log));
        if (!up) stop_process(hub_, SIGTERM, 5000);
        hub_ = -1;
        return false;
    }

    // Subscribers the hub does not spawn itself.
    void start_subscribers() {
        if (sub_spawned_) return;
        for (unsigned i = 0; i < r_.spec.subscribers; ++i) workers_.emplace_back(spawn(sub_argv_[i], log_), sub_outs_[i]);
    }

    // Every subscriber has subscribed (its .ready file) before anything is published.
    bool await_subscribers() {
        bool any_result = false;
        wait_until([&] {
            for (auto &f : sub_outs_) any_result |= file_exists(f);
            return all_exist(sub_outs_, ".ready") || any_result || worker_died();
        }, 15000);
        if (all_exist(sub_outs_, ".ready") && !any_result) return true;
        std::string why = worker_error(sub_outs_);
        fail(why.empty() ? "subscribers did not become ready: " + log_tail(log_) : why);
        return false;
    }

    // The measurement itself: the publisher runs its stream, every worker writes its result.
    void run_publisher() {
        if (!pub_spawned_) workers_.emplace_back(spawn(pub_argv_, log_), pub_out_);
        write_text_atomic(go_, "go\n");
        std::vector<std::string> outs = sub_outs_;
        outs.push_back(pub_out_);
        // Polls slowly: the measurement runs meanwhile and this process should not compete for the CPU.
        auto publisher_failed = [&] { return file_exists(pub_out_) && !worker_error({pub_out_}).empty(); };
        if (!wait_until([&] { return all_exist(outs, "") || worker_died() || publisher_failed(); },
                        int(o_.timeout_s) * 1000 + 5000, 20))
            fail(interrupted() ? "interrupted" : "timed out after " + std::to_string(o_.timeout_s) + " s");
        else if (!all_exist(outs, ""))
            fail("a worker died: " + log_tail(log_));
        if (std::string why = worker_error(outs); !why.empty()) fail(why);
    }

    // Workers are reaped (killed if they hang), the hub is asked to stop and must exit 0.
    void stop_processes() {
        for (auto &[pid, out] : workers_)
            if (wait_exit(pid, ok() ? 5000 : 0) < 0) stop_process(pid, SIGKILL, 1000);
        if (hub_ > 0) {
            int rc = stop_process(hub_, SIGTERM, 10000);
            if (rc != 0) fail("the hub exited with status " + std::to_string(rc) + ": " + log_tail(prefix_ + "-hub.log"));
        }
    }

    // Sums what the subscribers counted; throughput from the publisher's start to the last arrival.
    void collect_results() {
        if (!ok()) return;
        json pub = json::parse(read_text(pub_out_), nullptr, false);
        if (pub.is_discarded()) fail("unreadable publisher result");
        else if (pub.contains("error")) fail(pub["error"].get<std::string>());
        uint64_t last = 0;
        std::vector<uint64_t> samples;
        for (auto &f : sub_outs_) {
            json s = json::parse(read_text(f), nullptr, false);
            if (s.is_discarded()) {
                fail("unreadable subscriber result");
                continue;
            }
            if (s.contains("error")) {
                fail(s["error"].get<std::string>());
                continue;
            }
            r_.delivered += s["received"].get<uint64_t>();
            r_.lost += s["lost"].get<uint64_t>();
            r_.duplicated += s["duplicated"].get<uint64_t>();
            r_.out_of_order += s["out_of_order"].get<uint64_t>();
            r_.corrupt += s["corrupt"].get<uint64_t>();
            last = std::max<uint64_t>(last, s["last_recv_ns"].get<uint64_t>());
            for (auto &v : s["latency_ns"]) samples.push_back(v.get<uint64_t>());
        }
        if (!ok()) return;
        uint64_t t0 = pub["t0_ns"];
        r_.seconds = last > t0 ? double(last - t0) / 1e9 : 0;
        if (r_.seconds > 0) {
            r_.msgs_per_s = double(r_.delivered) / r_.seconds;
            r_.mb_per_s = double(r_.delivered) * double(r_.spec.size) / 1e6 / r_.seconds;
        }
        r_.latency = summarize(samples);
        r_.judge();
    }

    const RunResult &result() const { return r_; }

private:
    bool ok() const { return r_.status == Status::ok; }
    bool skip(const std::string &why) {
        r_.status = Status::skipped;
        r_.reason = why;
        return false;
    }
    // Keeps the first reason.
    void fail(const std::string &why) {
        if (!ok()) return;
        r_.status = Status::failed;
        r_.reason = why;
    }

    std::vector<std::string> worker_argv(const std::string &role, const std::string &backend, const std::string &out) const {
        auto a = ctx_.worker_args(role, backend, r_.spec);
        a.insert(a.end(), {"--channel", channel_, "--out", out});
        if (!instance_.empty()) a.insert(a.end(), {"--instance", instance_});
        if (!runtime_.empty()) a.insert(a.end(), {"--runtime-dir", runtime_});
        return a;
    }

    static bool all_exist(const std::vector<std::string> &files, const char *suffix) {
        for (auto &f : files)
            if (!file_exists(f + suffix)) return false;
        return true;
    }

    // A worker that exited without writing its result (crashed, or could not start).
    bool worker_died() const {
        for (auto &[pid, out] : workers_) {
            siginfo_t info{};
            if (::waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid &&
                !file_exists(out))
                return true;
        }
        return false;
    }

    // The first error a worker wrote, if any did.
    static std::string worker_error(const std::vector<std::string> &outs) {
        for (auto &f : outs) {
            json j = json::parse(read_text(f), nullptr, false);
            if (!j.is_discarded() && j.contains("error")) return j["error"].get<std::string>();
        }
        return "";
    }

    Context &ctx_;
    const Options &o_;
    RunResult r_;
    const Backend *pb_ = nullptr, *sb_ = nullptr;
    bool pub_spawned_ = false, sub_spawned_ = false;
    std::string prefix_, channel_, instance_, runtime_, log_, go_, pub_out_;
    std::vector<std::string> sub_outs_;
    std::vector<std::vector<std::string>> sub_argv_;
    std::vector<std::string> pub_argv_;
    std::vector<std::pair<pid_t, std::string>> workers_; // pid, result file
    pid_t hub_ = -1;
};

} // namespace

RunResult measure_hub(Context &ctx, const RunSpec &spec) {
    HubRun run(ctx, spec);
    if (!run.applicable()) return run.result();
    run.plan_workers();
    if (run.start_hub()) {
        run.start_subscribers();
        if (run.await_subscribers()) run.run_publisher();
    }
    run.stop_processes();
    run.collect_results();
    return run.result();
}

} // namespace bench
