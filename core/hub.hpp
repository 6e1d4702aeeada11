// The hub's lifecycle: load -> negotiate -> init -> start -> run -> stop ->
// cleanup -> unload, with the instance lock around it and SIGINT/SIGTERM/SIGHUP/SIGQUIT as
// the way out. No transport code and no routing here.
#pragma once

#include "broker.hpp"
#include "event_loop.hpp"
#include "instance_lock.hpp"
#include "log.hpp"
#include "hosted_plugin.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ipchub::core {

struct HubOptions {
    std::string config_path;  // "" = the default lookup
    std::string instance;     // "" = IPCHUB_INSTANCE or "default"
    std::string runtime_dir;  // "" = IPCHUB_RUNTIME_DIR or the default
    std::string plugin_dir;   // --plugin-dir: a ':'-separated search path, searched before the config's and the default
    Level verbosity = Level::info;
    // --spawn: command lines for children the hub starts and supervises. They
    // are handed to the transport that has IPCHUB_CAP_SPAWNED_CHILDREN (pipe)
    // as extra entries of its config's "children" list.
    std::vector<std::string> spawn;
    // --spin-us: overrides plugins.json's hub.spin_us when set.
    std::optional<uint32_t> spin_us;
};

class FatalSignalReport;

class Hub {
public:
    explicit Hub(HubOptions options);
    ~Hub();

    // Runs until SIGINT, SIGTERM, SIGHUP or SIGQUIT. Returns the process exit code.
    int run();

private:
    // The lifecycle, one step each, in the order run() takes them. A step
    // that fails logs why and returns false (or an exit code).
    int read_config();
    int make_runtime_dir();
    int lock_instance(InstanceLock &lock, bool &took_over); // 0, or the exit status
    void create_broker();
    bool watch_signals();
    bool bring_up_plugins(bool sweep_first);
    bool load_plugins();
    bool init_plugins(bool sweep_first);
    bool start_plugins();
    void serve();
    void stop();
    void cleanup();
    void unload();
    void unwatch_signals();
    void remove_runtime_dir();

    int poll_transports(bool sleeping);
    void shutdown(const char *why);
    void export_environment();
    std::string config_for(const HostedPlugin &p) const;
    ipchub_hub_params hub_params(const HostedPlugin &p, const std::string &config_json) const;

    HubOptions options_;
    HubConfig config_;
    std::string config_path_;
    std::string plugin_dir_;
    Log log_;
    EventLoop loop_;
    std::unique_ptr<Broker> broker_;
    std::vector<std::unique_ptr<HostedPlugin>> plugins_;
    std::string instance_;
    std::string runtime_base_;
    std::string instance_dir_;
    bool base_is_default_ = true;
    bool created_instance_dir_ = false;
    bool created_base_dir_ = false;
    int signal_fd_ = -1;
    FatalSignalReport *crash_report_ = nullptr; // set while plugins load, init and start
};

} // namespace ipchub::core
