#include "options.hpp"

#include "cli_common.hpp"
#include "payload.hpp"

#include <ipchub/protocol.h>

namespace bench {

namespace {
const char *kFigures =
    "Modes:\n"
    "  raw   two processes talk over one mechanism directly, through the transport plugin's own\n"
    "        hub and client halves, with no router in between: what the mechanism itself can do.\n"
    "  hub   publisher -> myipchub -> subscriber(s) through the public client API, for every backend\n"
    "        and for mixed pairs (--pairs socket:shm = socket publisher, shm subscribers).\n"
    "        Pipe clients run as children the hub spawns (myipchub --spawn); pipe has no raw mode.\n"
    "\n"
    "Figures (one row per run = mode, publisher/subscriber backend, message size):\n"
    "  Throughput   payload megabytes (10^6 bytes) delivered per second, summed over all subscribers:\n"
    "               the publisher streams --messages messages without waiting (publish_nowait, flush),\n"
    "               timed from its first send to the last message received by the last subscriber.\n"
    "  Msgs/s       messages delivered per second on the same clock (all subscribers together).\n"
    "  Latency      one-way time of one message, from the sender's CLOCK_MONOTONIC stamp to its\n"
    "               arrival at the receiver, with exactly one message in flight: the receiver answers\n"
    "               each ping before the next is sent (--pings samples after a short warm-up).\n"
    "               Before anything is timed, each run streams about 32 MiB of warm-up messages\n"
    "               (checked for loss like the rest) so start-up costs do not count as speed.\n"
    "               avg = mean, p50 = median, p99 = 99th percentile, max = slowest sample, in microseconds.\n"
    "  lost, duplicated, out of order, corrupt  (FAILED lines; JSON and CSV fields)\n"
    "               messages never received, received twice, received after a later one, or received\n"
    "               with a wrong checksum. Every one must be 0: a run with any is FAILED, shows no\n"
    "               speed, and myipcbench exits 1.\n"
    "\n"
    "Every message carries a sequence number, a CLOCK_MONOTONIC stamp and a checksum over all its\n"
    "bytes, all verified by the receiver. The tool starts its own hub (instance <name>-hub in a\n"
    "private runtime directory it removes afterwards) unless --use-running-hub is given.\n"
    "A progress line is shown on standard error when it is a terminal.\n"
    "\n"
    "Exit status: 0 when every run passed, 1 when a run FAILED, 2 on bad options or when no\n"
    "backend could be measured.";
} // namespace

void add_options(CLI::App &app, Options &o) {
    app.footer(kFigures);
    app.add_option("--mode", o.mode, "raw, hub or both")
        ->check(CLI::IsMember({"raw", "hub", "both"}))
        ->capture_default_str();
    app.add_option("-b,--backends", o.backends,
                   "Backends to measure, comma-separated (default: every enabled plugin in plugins.json that loads)")
        ->delimiter(',');
    app.add_option("--pairs", o.pairs,
                   "Mixed hub runs as publisher:subscriber backends, comma-separated, e.g. socket:shm,shm:socket "
                   "(default: socket:shm and shm:socket when both exist; 'none' for no mixed runs)")
        ->delimiter(',');
    app.add_option("-s,--size", o.sizes, "Payload sizes in bytes, comma-separated (at least 32)")
        ->delimiter(',')
        ->capture_default_str();
    app.add_option("-n,--messages", o.messages,
                   "Messages per throughput run (default: 1 GiB of payload per size, at least 1,000 and at most "
                   "1,000,000; 1,000,000 at 1 KiB)")
        ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 32));
    app.add_option("--pings", o.pings, "Latency samples per run (one message in flight)")
        ->check(CLI::Range(uint64_t{1}, uint64_t{10000000}))
        ->capture_default_str();
    app.add_option("--subscribers", o.subscribers, "Subscribers per hub run (fan-out)")
        ->check(CLI::Range(1u, 64u))
        ->capture_default_str();
    app.add_option("--timeout", o.timeout_s, "Seconds after which a run that has not finished FAILS")
        ->check(CLI::Range(1u, 86400u))
        ->capture_default_str();
    app.add_option("--spin-us", o.spin_us,
                   "Hub mode: start the hub with --spin-us N, so it (and its shm clients) poll for N microseconds "
                   "after activity before sleeping; 0 = the default, never spin. Not with --use-running-hub.")
        ->check(CLI::Range(0u, 1000000u))
        ->capture_default_str();
    app.add_option("--json", o.json_path, "Also write every run as JSON to this file");
    app.add_option("--csv", o.csv_path, "Also write every run as CSV to this file");
    app.add_option("--instance", o.instance,
                   "With --use-running-hub: the hub's instance. Otherwise the prefix of the private instances "
                   "the benchmark creates (default: $IPCHUB_INSTANCE-bench-<pid>, else bench-<pid>)");
    app.add_option("--runtime-dir", o.runtime_dir,
                   "Directory holding instance directories (default: $IPCHUB_RUNTIME_DIR, else a private "
                   "directory under /tmp that is removed afterwards)");
    app.add_option("--config", o.config_path, "plugins.json (default: $IPCHUB_CONFIG, else the installed one)");
    ipchub::apps::add_plugin_dir_option(app, o.plugin_dir);
    app.add_flag("--use-running-hub", o.use_running_hub,
                 "Measure through the hub already serving --instance instead of starting one (no pipe runs)");
    app.add_option("--hub", o.hub_path, "myipchub to start (default: the one next to myipcbench)");

    // Hidden worker role: the benchmark runs itself in these.
    app.add_option("--worker", o.worker)->group("");
    app.add_option("--backend", o.backend)->group("");
    app.add_option("--channel", o.channel)->group("");
    app.add_option("--out", o.out_path)->group("");
    app.add_option("--go", o.go_path)->group("");
    app.add_option("--index", o.index)->group("");
    app.add_option("--worker-size", o.size)->group("");
}

void validate(Options &o) {
    for (uint64_t s : o.sizes) {
        if (s < kStampSize)
            throw CLI::ValidationError("--size", "sizes must be at least " + std::to_string(kStampSize) +
                                                     " bytes (sequence number, timestamp and checksum)");
        if (s > (uint64_t{1} << 30)) throw CLI::ValidationError("--size", "sizes above 1 GiB make no sense here");
    }
    if (o.mode == "raw" && o.spin_us)
        throw CLI::ValidationError("--spin-us", "raw mode has no hub to spin; use --mode hub or both");
    if (o.use_running_hub && o.spin_us)
        throw CLI::ValidationError("--spin-us", "a running hub spins as it was started; --spin-us applies to the hub "
                                                "myipcbench starts itself");
    o.default_pairs = o.pairs.empty();
    if (o.pairs.size() == 1 && o.pairs[0] == "none") o.pairs.clear();
    for (auto &p : o.pairs) {
        auto colon = p.find(':');
        if (colon == std::string::npos || colon == 0 || colon + 1 == p.size() || p.find(':', colon + 1) != std::string::npos)
            throw CLI::ValidationError("--pairs", "'" + p + "' is not publisher:subscriber (e.g. socket:shm)");
    }
}

} // namespace bench
