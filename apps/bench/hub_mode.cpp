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

RunResult measure_hub(Context &ctx, const RunSpec &spec) {
    const Options &o = *ctx.options;
    RunResult r;
    r.spec = spec;
    auto skip = [&](const std::string &why) {
        r.status = Status::skipped;
        r.reason = why;
        return r;
    };
    auto fail = [&](const std::string &why) {
        if (r.status == Status::ok) {
            r.status = Status::failed;
            r.reason = why;
        }
    };
    const Backend *pb = ctx.installation.find(spec.publisher), *sb = ctx.installation.find(spec.subscriber);
    bool pub_spawned = pb->capabilities & IPCHUB_CAP_SPAWNED_CHILDREN;
    bool sub_spawned = sb->capabilities & IPCHUB_CAP_SPAWNED_CHILDREN;
    if ((pub_spawned || sub_spawned) && o.use_running_hub)
        return skip("pipe needs a hub-spawned child: not possible with --use-running-hub");
    std::string prefix = ctx.next_run_prefix();
    std::string channel = "bench" + std::to_string(::getpid()) + "." + std::to_string(ctx.runs);
    if (uint64_t limit = ctx.installation.max_payload({pb, sb}); spec.size > limit)
        return skip("at most " + std::to_string(limit) + " payload bytes fit these transports");

    std::string instance = o.use_running_hub ? o.instance : ctx.instance_base + "-hub";
    std::string runtime = o.use_running_hub ? o.runtime_dir : ctx.runtime_base;
    std::string log = prefix + ".log";
    auto worker = [&](const std::string &role, const std::string &backend, const std::string &out) {
        auto a = ctx.worker_args(role, backend, spec);
        a.insert(a.end(), {"--channel", channel, "--out", out});
        if (!instance.empty()) a.insert(a.end(), {"--instance", instance});
        if (!runtime.empty()) a.insert(a.end(), {"--runtime-dir", runtime});
        return a;
    };
    std::string go = prefix + ".go", pub_out = prefix + "-pub.json";
    std::vector<std::string> sub_outs;
    std::vector<std::vector<std::string>> sub_argv;
    for (unsigned i = 0; i < spec.subscribers; ++i) {
        sub_outs.push_back(prefix + "-sub" + std::to_string(i) + ".json");
        auto a = worker("hub-sub", spec.subscriber, sub_outs.back());
        a.insert(a.end(), {"--index", std::to_string(i)});
        sub_argv.push_back(a);
    }
    auto pub_argv = worker("hub-pub", spec.publisher, pub_out);
    pub_argv.insert(pub_argv.end(), {"--go", go});

    std::vector<std::pair<pid_t, std::string>> workers; // pid, result file
    pid_t hub = -1;
    if (!o.use_running_hub) {
        std::vector<std::string> h{ctx.hub_exe, "--instance", instance, "--runtime-dir", runtime,
                                   "--config", ctx.installation.config_path, "--plugin-dir", ctx.installation.plugin_dir, "-q",
                                   "--spin-us", std::to_string(o.spin_us)};
        // Children of the hub see its stdout; keep their output in our log too.
        auto spawn_arg = [&](const std::vector<std::string> &argv) { return shell_quote(argv) + " >>" + shell_quote({log}) + " 2>&1"; };
        if (sub_spawned)
            for (auto &a : sub_argv) h.insert(h.end(), {"--spawn", spawn_arg(a)});
        if (pub_spawned) h.insert(h.end(), {"--spawn", spawn_arg(pub_argv)});
        hub = spawn(h, prefix + "-hub.log");
        bool up = wait_until([&] {
            return read_text(prefix + "-hub.log").find("Listening for connections...") != std::string::npos ||
                   wait_exit(hub, 0) >= 0;
        }, 10000);
        if (!up || read_text(prefix + "-hub.log").find("Listening for connections...") == std::string::npos) {
            fail("the hub did not start: " + log_tail(prefix + "-hub.log"));
            if (!up) stop_process(hub, SIGTERM, 5000);
            hub = -1;
        }
    }
    if (r.status == Status::ok && !sub_spawned)
        for (unsigned i = 0; i < spec.subscribers; ++i) workers.emplace_back(spawn(sub_argv[i], log), sub_outs[i]);
    auto all_exist = [&](const std::vector<std::string> &files, const char *suffix) {
        for (auto &f : files)
            if (!file_exists(f + suffix)) return false;
        return true;
    };
    // A worker that exited without writing its result (crashed, or could not start).
    auto worker_died = [&] {
        for (auto &[pid, out] : workers) {
            siginfo_t info{};
            if (::waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid &&
                !file_exists(out))
                return true;
        }
        return false;
    };
    // The first error a worker wrote, if any did.
    auto worker_error = [&](const std::vector<std::string> &outs) -> std::string {
        for (auto &f : outs) {
            json j = json::parse(read_text(f), nullptr, false);
            if (!j.is_discarded() && j.contains("error")) return j["error"].get<std::string>();
        }
        return "";
    };
    if (r.status == Status::ok) {
        bool any_result = false;
        wait_until([&] {
            for (auto &f : sub_outs) any_result |= file_exists(f);
            return all_exist(sub_outs, ".ready") || any_result || worker_died();
        }, 15000);
        if (!all_exist(sub_outs, ".ready") || any_result) {
            std::string why = worker_error(sub_outs);
            fail(why.empty() ? "subscribers did not become ready: " + log_tail(log) : why);
        }
    }
    if (r.status == Status::ok) {
        if (!pub_spawned) workers.emplace_back(spawn(pub_argv, log), pub_out);
        write_text_atomic(go, "go\n");
        std::vector<std::string> outs = sub_outs;
        outs.push_back(pub_out);
        // Polls slowly: the measurement runs meanwhile and this process should not compete for the CPU.
        auto publisher_failed = [&] { return file_exists(pub_out) && !worker_error({pub_out}).empty(); };
        if (!wait_until([&] { return all_exist(outs, "") || worker_died() || publisher_failed(); },
                        int(o.timeout_s) * 1000 + 5000, 20))
            fail(interrupted() ? "interrupted" : "timed out after " + std::to_string(o.timeout_s) + " s");
        else if (!all_exist(outs, ""))
            fail("a worker died: " + log_tail(log));
        if (std::string why = worker_error(outs); !why.empty()) fail(why);
    }
    for (auto &[pid, out] : workers)
        if (wait_exit(pid, r.status == Status::ok ? 5000 : 0) < 0) stop_process(pid, SIGKILL, 1000);
    if (hub > 0) {
        int rc = stop_process(hub, SIGTERM, 10000);
        if (rc != 0) fail("the hub exited with status " + std::to_string(rc) + ": " + log_tail(prefix + "-hub.log"));
    }
    if (r.status != Status::ok) return r;

    json pub = json::parse(read_text(pub_out), nullptr, false);
    if (pub.is_discarded()) fail("unreadable publisher result");
    else if (pub.contains("error")) fail(pub["error"].get<std::string>());
    uint64_t last = 0;
    std::vector<uint64_t> samples;
    for (auto &f : sub_outs) {
        json s = json::parse(read_text(f), nullptr, false);
        if (s.is_discarded()) {
            fail("unreadable subscriber result");
            continue;
        }
        if (s.contains("error")) {
            fail(s["error"].get<std::string>());
            continue;
        }
        r.delivered += s["received"].get<uint64_t>();
        r.lost += s["lost"].get<uint64_t>();
        r.duplicated += s["duplicated"].get<uint64_t>();
        r.out_of_order += s["out_of_order"].get<uint64_t>();
        r.corrupt += s["corrupt"].get<uint64_t>();
        last = std::max<uint64_t>(last, s["last_recv_ns"].get<uint64_t>());
        for (auto &v : s["latency_ns"]) samples.push_back(v.get<uint64_t>());
    }
    if (r.status != Status::ok) return r;
    uint64_t t0 = pub["t0_ns"];
    r.seconds = last > t0 ? double(last - t0) / 1e9 : 0;
    if (r.seconds > 0) {
        r.msgs_per_s = double(r.delivered) / r.seconds;
        r.mb_per_s = double(r.delivered) * double(spec.size) / 1e6 / r.seconds;
    }
    r.latency = summarize(samples);
    r.judge();
    return r;
}

} // namespace bench
