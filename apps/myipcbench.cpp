// myipcbench: measures every transport, point to point (raw) and through a
// real hub, and says which to choose. The pieces live in apps/bench/; this is
// the command line and the order of work.
#include "bench/context.hpp"
#include "bench/hub_mode.hpp"
#include "bench/options.hpp"
#include "bench/plan.hpp"
#include "bench/process.hpp"
#include "bench/raw_mode.hpp"
#include "bench/report.hpp"

#include "paths.hpp"

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace {

int run_worker(const bench::Options &o) {
    std::signal(SIGPIPE, SIG_IGN);
    if (o.worker == "raw-server") return bench::raw_server_main(o);
    if (o.worker == "raw-client") return bench::raw_client_main(o);
    if (o.worker == "hub-sub") return bench::hub_subscriber_main(o);
    if (o.worker == "hub-pub") return bench::hub_publisher_main(o);
    std::fprintf(stderr, "myipcbench: unknown worker role '%s'\n", o.worker.c_str());
    return 2;
}

// The private scratch directory (and the runtime directory inside it when
// we chose it), removed however the run ends.
struct Scratch {
    std::string path;
    Scratch() {
        char tmpl[] = "/tmp/ipchub-bench.XXXXXX";
        if (!::mkdtemp(tmpl)) throw std::runtime_error("cannot create a directory under /tmp");
        path = tmpl;
    }
    ~Scratch() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

void progress(size_t done, size_t total, const bench::RunSpec *next) {
    static const bool tty = ::isatty(2);
    if (!tty) return;
    if (next)
        std::fprintf(stderr, "\r\033[K[%zu/%zu] %s, %s ...", done + 1, total, next->mechanism().c_str(),
                     bench::human_size(next->size).c_str());
    else
        std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
}

int run_benchmark(const bench::Options &o) {
    bench::install_interrupt_handler();
    bench::Context ctx;
    ctx.options = &o;
    try {
        ctx.installation = bench::discover(o.config_path, o.plugin_dir);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "myipcbench: %s\n", e.what());
        return 2;
    }
    bench::Plan plan;
    try {
        plan = bench::make_plan(o, ctx.installation);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "myipcbench: %s\n", e.what());
        return 2;
    }
    ctx.self = bench::self_exe();
    ctx.hub_exe = o.hub_path.empty() ? (std::filesystem::path(ctx.self).parent_path() / "myipchub").string() : o.hub_path;
    if (o.mode != "raw" && !o.use_running_hub && ::access(ctx.hub_exe.c_str(), X_OK) != 0) {
        std::fprintf(stderr, "myipcbench: cannot run the hub %s (pass --hub PATH)\n", ctx.hub_exe.c_str());
        return 2;
    }
    Scratch scratch;
    ctx.scratch = scratch.path;
    const char *env_dir = std::getenv("IPCHUB_RUNTIME_DIR");
    ctx.runtime_base = !o.runtime_dir.empty() ? o.runtime_dir : env_dir && *env_dir ? env_dir : scratch.path + "/run";
    const char *env_instance = std::getenv("IPCHUB_INSTANCE");
    std::string pid = std::to_string(::getpid());
    if (!o.instance.empty() && !o.use_running_hub) ctx.instance_base = o.instance;
    else ctx.instance_base = (env_instance && *env_instance ? std::string(env_instance) + "-" : "") + "bench-" + pid;
    if (!ipchub::is_valid_instance(ctx.instance_base + "-hub")) {
        std::fprintf(stderr, "myipcbench: '%s-hub' is not a valid instance name ([A-Za-z0-9._-], 1-64 characters)\n",
                     ctx.instance_base.c_str());
        return 2;
    }
    if (ipchub::make_dirs(ctx.runtime_base, 0700) != 0) {
        std::fprintf(stderr, "myipcbench: cannot create %s\n", ctx.runtime_base.c_str());
        return 2;
    }
    if (plan.runs.empty()) {
        bench::print_table(stdout, plan.skipped);
        std::fprintf(stderr, "myipcbench: nothing to measure\n");
        return 2;
    }

    std::vector<bench::RunResult> results = plan.skipped;
    for (size_t i = 0; i < plan.runs.size() && !bench::interrupted(); ++i) {
        progress(i, plan.runs.size(), &plan.runs[i]);
        const bench::RunSpec &spec = plan.runs[i];
        results.push_back(spec.mode == "raw" ? bench::measure_raw(ctx, spec) : bench::measure_hub(ctx, spec));
    }
    progress(0, 0, nullptr);
    // Skipped entries last, after the measured ones.
    std::stable_partition(results.begin(), results.end(), [](auto &r) { return r.status != bench::Status::skipped; });
    bench::print_table(stdout, results);
    bench::print_recommendation(stdout, results, ctx.installation);
    int failed = 0;
    for (auto &r : results) failed += r.status == bench::Status::failed;
    try {
        if (!o.json_path.empty()) bench::write_json(o.json_path, results, o);
        if (!o.csv_path.empty()) bench::write_csv(o.csv_path, results);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "myipcbench: %s\n", e.what());
        return 1;
    }
    if (bench::interrupted()) {
        std::fprintf(stderr, "myipcbench: interrupted\n");
        return 130;
    }
    return failed ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
    CLI::App app{"myipcbench - measure the ipchub transports: throughput, latency and loss, point to point\n"
                 "and through the hub, and recommend one. Without options: every available backend,\n"
                 "both modes, 1 KiB messages.",
                 "myipcbench"};
    bench::Options o;
    bench::add_options(app, o);
    try {
        app.parse(argc, argv);
        bench::validate(o);
    } catch (const CLI::ParseError &e) {
        int rc = app.exit(e); // prints help, or the error
        return rc == 0 ? 0 : 2;
    }
    if (!o.worker.empty()) return run_worker(o);
    try {
        return run_benchmark(o);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "myipcbench: %s\n", e.what());
        return 1;
    }
}
