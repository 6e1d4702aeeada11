// Options every ipchub tool shares, so --instance and --runtime-dir mean the
// same everywhere (and fall back to the same environment variables).
#pragma once

#include <CLI/CLI.hpp>
#include <ipchub/client.hpp>

#include <string>
#include <vector>

namespace ipchub::apps {

inline void add_endpoint_options(CLI::App &app, std::string &instance, std::string &runtime_dir) {
    app.add_option("--instance", instance,
                   "Hub instance to use (default: $IPCHUB_INSTANCE, else \"default\"); "
                   "instances are independent hubs with their own runtime directory and IPC names");
    app.add_option("--runtime-dir", runtime_dir,
                   "Directory that holds each instance's runtime directory "
                   "(default: $IPCHUB_RUNTIME_DIR, else $XDG_RUNTIME_DIR/ipchub, else /tmp/ipchub-<uid>)");
}

// --plugin-dir, repeatable: the directories are searched in the order given
// (first match wins), before plugins.json's "plugin_dirs" and the default
// directory. Stored as a ':'-separated search path.
inline void add_plugin_dir_option(CLI::App &app, std::string &search_path) {
    app.add_option_function<std::vector<std::string>>(
           "--plugin-dir",
           [&search_path](const std::vector<std::string> &dirs) {
               for (auto &d : dirs) search_path += (search_path.empty() ? "" : ":") + d;
           },
           "Also look for transport plugins in DIR; repeatable, searched in order before plugins.json's "
           "\"plugin_dirs\" and the default ($IPCHUB_PLUGIN_DIR, else ../lib/ipchub/plugins next to the program)")
        ->type_name("DIR");
}

inline void add_client_options(CLI::App &app, ClientOptions &o) {
    app.add_option("-b,--backend", o.backend,
                   "Transport to reach the hub with: socket, fifo, mqueue, shm, pipe or any plugin in plugins.json")
        ->capture_default_str();
    add_endpoint_options(app, o.instance, o.runtime_dir);
    app.add_option("--config", o.config_path,
                   "plugins.json to read the transport list from (default: $IPCHUB_CONFIG, else the installed one)");
    add_plugin_dir_option(app, o.plugin_dir);
}

// Parses the command line like CLI11_PARSE, but with the exit codes the tools
// document instead of CLI11's own (105, 109, ...): 0 after --help, 2 for any
// bad option. Returns -1 when the program should go on.
inline int parse_command_line(CLI::App &app, int argc, char **argv) {
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        return app.exit(e) == 0 ? 0 : 2; // prints the help, or the error and a hint
    }
    return -1;
}

// Prints "<tool>: <message>" on stderr; returns the exit code for the error kind.
int report(const char *tool, const std::exception &e);

} // namespace ipchub::apps
