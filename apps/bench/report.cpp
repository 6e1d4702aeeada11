#include "report.hpp"

#include <ipchub/plugin.h>

#include <nlohmann/json.hpp>

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <stdexcept>

namespace bench {

namespace {

std::string fmt(const char *f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

std::string mbps(double v) { return fmt(v >= 100 ? "%.0f MB/s" : "%.1f MB/s", v); }
std::string usec(double v) { return fmt(v >= 100 ? "%.0f us" : "%.1f us", v); }

std::vector<const RunResult *> measured(const std::vector<RunResult> &runs) {
    std::vector<const RunResult *> out;
    for (auto &r : runs)
        if (r.status != Status::skipped) out.push_back(&r);
    return out;
}

// What each stock mechanism is good for, independent of this machine's figures.
std::string trait(const std::string &name, const Installation &inst) {
    if (name == "socket") return "It works with every client and language that has UNIX sockets and notices a dead peer at once: the safe default.";
    if (name == "fifo") return "It needs nothing but named files, for clients that cannot use sockets.";
    if (name == "mqueue") return "The kernel keeps message boundaries, but message size is capped (see /proc/sys/fs/mqueue/msgsize_max).";
    if (name == "shm") return "A shared-memory ring with no system call per message: for bulk data and low latency between local processes.";
    if (name == "pipe") return "Only for children the hub starts (myipchub --spawn); nothing to name or clean up.";
    const Backend *b = inst.find(name);
    return b && !b->description.empty() ? "Third-party transport: " + b->description + "." : "Third-party transport.";
}

} // namespace

std::string human_size(uint64_t bytes) {
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0) return std::to_string(bytes >> 20) + " MiB";
    if (bytes >= 1024 && bytes % 1024 == 0) return std::to_string(bytes >> 10) + " KiB";
    return std::to_string(bytes) + " B";
}

void print_table(std::FILE *out, const std::vector<RunResult> &runs) {
    std::vector<std::vector<std::string>> rows{
        {"Mechanism", "Throughput", "Latency (avg)", "p50", "p99", "max", "Msgs/s", "Size", "Status"}};
    for (const RunResult *r : measured(runs)) {
        if (r->status == Status::ok)
            rows.push_back({r->spec.mechanism(), mbps(r->mb_per_s), usec(r->latency.avg_us), usec(r->latency.p50_us),
                            usec(r->latency.p99_us), usec(r->latency.max_us), fmt("%.0f", r->msgs_per_s),
                            human_size(r->spec.size), "ok"});
        else
            rows.push_back({r->spec.mechanism(), "FAILED", "-", "-", "-", "-", "-", human_size(r->spec.size), "FAILED"});
    }
    std::vector<size_t> width(rows[0].size(), 0);
    for (auto &row : rows)
        for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    for (auto &row : rows) {
        std::string line;
        for (size_t i = 0; i < row.size(); ++i) {
            if (i) line += "  ";
            // Text left, figures right (the header of a figure column too).
            bool left = i == 0 || i == row.size() - 1;
            std::string pad(width[i] - row[i].size(), ' ');
            line += left ? row[i] + pad : pad + row[i];
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        std::fprintf(out, "%s\n", line.c_str());
    }
    for (auto &r : runs)
        if (r.status == Status::failed)
            std::fprintf(out, "FAILED: %s, %s: %s\n", r.spec.mechanism().c_str(), human_size(r.spec.size).c_str(),
                         r.reason.c_str());
    for (auto &r : runs) {
        if (r.status != Status::skipped) continue;
        // A whole backend (no size) or one run.
        std::string what = r.spec.size ? r.spec.mechanism() + ", " + human_size(r.spec.size)
                                       : r.spec.publisher == r.spec.subscriber ? r.spec.publisher + " (" + r.spec.mode + ")"
                                                                               : r.spec.mechanism();
        std::fprintf(out, "skipped: %s: %s\n", what.c_str(), r.reason.c_str());
    }
}

void print_recommendation(std::FILE *out, const std::vector<RunResult> &runs, const Installation &inst) {
    // One message size decides: 1 KiB when measured (the reference size), else the first.
    uint64_t size = 0;
    for (auto &r : runs)
        if (r.status == Status::ok && (size == 0 || r.spec.size == 1024)) size = r.spec.size;
    std::fprintf(out, "\nRecommendation\n");
    if (size == 0) {
        std::fprintf(out, "  No run passed: nothing to recommend.\n");
        return;
    }
    auto pick = [&](const std::string &mode, bool same_backend_only) {
        std::vector<const RunResult *> v;
        for (auto &r : runs)
            if (r.status == Status::ok && r.spec.size == size && r.spec.mode == mode &&
                (!same_backend_only || (r.spec.publisher == r.spec.subscriber && r.spec.subscribers == 1)))
                v.push_back(&r);
        return v;
    };
    auto fastest = [](const std::vector<const RunResult *> &v) {
        return *std::max_element(v.begin(), v.end(), [](auto *a, auto *b) { return a->mb_per_s < b->mb_per_s; });
    };
    auto quickest = [](const std::vector<const RunResult *> &v) {
        return *std::min_element(v.begin(), v.end(), [](auto *a, auto *b) { return a->latency.p50_us < b->latency.p50_us; });
    };
    std::fprintf(out, "  (from the %s runs above)\n", human_size(size).c_str());
    for (const char *mode : {"hub", "raw"}) {
        auto v = pick(mode, false);
        if (v.empty()) continue;
        const RunResult *f = fastest(v), *q = quickest(v);
        const char *where = std::string(mode) == "hub" ? "through the hub" : "point to point (raw)";
        std::fprintf(out, "  Highest throughput %s: %s, %s.\n", where, f->spec.mechanism().c_str(), mbps(f->mb_per_s).c_str());
        std::fprintf(out, "  Lowest latency %s: %s, p50 %s.\n", where, q->spec.mechanism().c_str(), usec(q->latency.p50_us).c_str());
    }
    // A sentence per mechanism, ranked on its own-backend hub run (raw when no hub run).
    auto hub = pick("hub", true), raw = pick("raw", true);
    auto &basis = hub.empty() ? raw : hub;
    if (basis.empty()) return;
    const RunResult *f = fastest(basis), *q = quickest(basis);
    std::vector<const RunResult *> by_speed = basis;
    std::sort(by_speed.begin(), by_speed.end(), [](auto *a, auto *b) { return a->mb_per_s > b->mb_per_s; });
    for (size_t i = 0; i < by_speed.size(); ++i) {
        const RunResult *r = by_speed[i];
        std::string name = r->spec.publisher;
        std::string verdict;
        if (r == f && r == q) verdict = "Fastest and lowest latency here: the first choice for local traffic.";
        else if (r == f) verdict = "The throughput choice: streams and large messages.";
        else if (r == q) verdict = "The latency choice: request/response and control messages.";
        else verdict = "Rank " + std::to_string(i + 1) + " of " + std::to_string(by_speed.size()) + " for throughput.";
        std::string raw_note;
        for (auto *w : raw)
            if (&basis != &raw && w->spec.publisher == name) raw_note = "; raw " + mbps(w->mb_per_s);
        std::fprintf(out, "  %s: %s, p50 %s %s%s. %s %s\n", name.c_str(), mbps(r->mb_per_s).c_str(),
                     usec(r->latency.p50_us).c_str(), &basis == &hub ? "through the hub" : "raw", raw_note.c_str(),
                     verdict.c_str(), trait(name, inst).c_str());
    }
    // Mechanisms that could only be measured in one mode still get their sentence.
    if (&basis == &hub)
        for (auto &b : inst.backends) {
            bool ranked = std::any_of(hub.begin(), hub.end(), [&](auto *r) { return r->spec.publisher == b.name; });
            if (b.available && !ranked && std::any_of(runs.begin(), runs.end(), [&](auto &r) {
                    return r.spec.publisher == b.name || r.spec.subscriber == b.name;
                }))
                std::fprintf(out, "  %s: no passing same-backend hub run at %s. %s\n", b.name.c_str(), human_size(size).c_str(),
                             trait(b.name, inst).c_str());
        }
}

void write_json(const std::string &path, const std::vector<RunResult> &runs, const Options &o) {
    using json = nlohmann::json;
    utsname u{};
    ::uname(&u);
    json j = {{"tool", "myipcbench"},
              {"schema", 1},
              {"machine", {{"cpus", ::sysconf(_SC_NPROCESSORS_ONLN)}, {"kernel", std::string(u.sysname) + " " + u.release},
                           {"arch", u.machine}}},
              {"settings", {{"mode", o.mode}, {"messages", o.messages ? json(o.messages) : json("by size: see runs")}, {"pings", o.pings}, {"sizes", o.sizes},
                            {"subscribers", o.subscribers}, {"warmup_messages_per_run", "min(messages, max(16, 32 MiB / size), 100000)"},
                            {"hub_spin_us", o.use_running_hub ? json(nullptr) : json(o.spin_us)}}},
              {"runs", json::array()}};
    size_t failed = 0;
    for (auto &r : runs) {
        failed += r.status == Status::failed;
        j["runs"].push_back({{"mode", r.spec.mode},
                             {"mechanism", r.spec.mechanism()},
                             {"publisher", r.spec.publisher},
                             {"subscriber", r.spec.subscriber},
                             {"subscribers", r.spec.subscribers},
                             {"size", r.spec.size},
                             {"messages", r.spec.messages},
                             {"pings", r.spec.pings},
                             {"status", status_name(r.status)},
                             {"reason", r.reason},
                             {"seconds", r.seconds},
                             {"msgs_per_s", r.msgs_per_s},
                             {"mb_per_s", r.mb_per_s},
                             {"latency_us", {{"avg", r.latency.avg_us}, {"p50", r.latency.p50_us}, {"p99", r.latency.p99_us},
                                             {"max", r.latency.max_us}, {"samples", r.latency.samples}}},
                             {"delivered", r.delivered},
                             {"lost", r.lost},
                             {"duplicated", r.duplicated},
                             {"out_of_order", r.out_of_order},
                             {"corrupt", r.corrupt}});
    }
    j["failed"] = failed;
    std::ofstream f(path, std::ios::trunc);
    f << j.dump(2) << '\n';
    if (!f) throw std::runtime_error("cannot write " + path);
}

void write_csv(const std::string &path, const std::vector<RunResult> &runs) {
    std::ofstream f(path, std::ios::trunc);
    f << "mode,mechanism,publisher,subscriber,subscribers,size,messages,pings,status,seconds,msgs_per_s,mb_per_s,"
         "latency_avg_us,latency_p50_us,latency_p99_us,latency_max_us,delivered,lost,duplicated,out_of_order,corrupt,reason\n";
    for (auto &r : runs) {
        std::string reason = r.reason;
        for (auto &c : reason)
            if (c == '"') c = '\'';
        f << r.spec.mode << ',' << r.spec.mechanism() << ',' << r.spec.publisher << ',' << r.spec.subscriber << ','
          << r.spec.subscribers << ',' << r.spec.size << ',' << r.spec.messages << ',' << r.spec.pings << ','
          << status_name(r.status) << ',' << r.seconds << ',' << r.msgs_per_s << ',' << r.mb_per_s << ','
          << r.latency.avg_us << ',' << r.latency.p50_us << ',' << r.latency.p99_us << ',' << r.latency.max_us << ','
          << r.delivered << ',' << r.lost << ',' << r.duplicated << ',' << r.out_of_order << ',' << r.corrupt << ",\""
          << reason << "\"\n";
    }
    if (!f) throw std::runtime_error("cannot write " + path);
}

} // namespace bench
