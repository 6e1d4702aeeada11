// myipchub: the hub daemon. All the work is in core/; this is the command line.
#include "cli_common.hpp"
#include "hub.hpp"
#include "paths.hpp"
#include "plugin_list.hpp"

namespace {

// --list-plugins: the table, or exit 2 when there is no readable plugins.json.
int list_plugins(const ipchub::core::HubOptions &o) {
    std::string path = o.config_path.empty() ? ipchub::find_default_config() : o.config_path;
    if (path.empty()) {
        std::fprintf(stderr, "myipchub: no plugins.json found (use --config FILE)\n");
        return 2;
    }
    try {
        std::fputs(ipchub::apps::plugin_table(ipchub::load_config_file(path), o.plugin_dir).c_str(), stdout);
    } catch (const ipchub::ConfigError &e) {
        std::fprintf(stderr, "myipchub: %s\n", e.what());
        return 2;
    }
    return 0;
}

} // namespace

int main(int argc, char **argv) {
    CLI::App app{"myipchub - local publish/subscribe message hub.\n\n"
                 "Loads the transports listed in plugins.json, routes messages published on a\n"
                 "channel to every subscriber of that channel over whatever transport each one\n"
                 "uses, and on SIGINT or SIGTERM shuts down and removes every IPC object it made.",
                 "myipchub"};
    ipchub::core::HubOptions o;
    bool verbose = false, quiet = false, list = false;
    app.add_option("-c,--config", o.config_path,
                   "plugins.json to load (default: $IPCHUB_CONFIG, else etc/ipchub/plugins.json or "
                   "share/ipchub/plugins.json next to the program's prefix)");
    ipchub::apps::add_endpoint_options(app, o.instance, o.runtime_dir);
    ipchub::apps::add_plugin_dir_option(app, o.plugin_dir);
    app.add_option("--spawn", o.spawn,
                   "Start this command line (run by /bin/sh -c) as a child connected to the hub by the pipe "
                   "transport; repeatable. The child inherits IPCHUB_* variables that point at this hub.")
        ->allow_extra_args(false);
    app.add_option("--spin-us", o.spin_us,
                   "Keep polling for this many microseconds after activity before sleeping (overrides "
                   "hub.spin_us in plugins.json; default 0 = never spin). Cuts latency by the cost of a "
                   "wake-up at the price of CPU while traffic flows; shm clients spin as long. An idle hub "
                   "still sleeps.")
        ->check(CLI::Range(0u, ipchub::kMaxSpinUs));
    app.add_flag("--list-plugins", list,
                 "List every plugin of plugins.json (enabled or not) with the ABI, version, capabilities and "
                 "description it declares, or why it cannot be loaded; then exit (0) without starting a hub");
    app.add_flag("-v,--verbose", verbose, "Log every connection, subscription and plugin event");
    app.add_flag("-q,--quiet", quiet, "Log errors only");
    app.footer("Exit status: 0 after a clean shutdown, 1 on a start-up failure (instance already served,\n"
               "required plugin missing, no transport could start), 2 on bad options or configuration.");
    if (int rc = ipchub::apps::parse_command_line(app, argc, argv); rc >= 0) return rc;
    if (list) return list_plugins(o);
    o.verbosity = verbose ? ipchub::core::Level::debug : quiet ? ipchub::core::Level::error : ipchub::core::Level::info;
    try {
        ipchub::core::Hub hub(o);
        return hub.run();
    } catch (const std::exception &e) {
        std::fprintf(stderr, "myipchub: %s\n", e.what());
        return 1;
    }
}
