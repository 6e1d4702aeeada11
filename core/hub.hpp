// The hub's lifecycle: load -> negotiate -> init -> start -> run -> stop ->
// cleanup -> unload, with the instance lock around it and SIGINT/SIGTERM as
// the way out. No transport code and no routing here.
#pragma once

#include "broker.hpp"
#include "event_loop.hpp"
#include "log.hpp"
#include "transport.hpp"

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

class Hub {
public:
    explicit Hub(HubOptions options);
    ~Hub();

    // Runs until SIGINT or SIGTERM. Returns the process exit code.
    int run();

    EventLoop &loop() { return loop_; }
    Broker &broker() { return *broker_; }
    const Log &log() const { return log_; }

private:
    bool start_transports(const HubConfig &config, const std::string &plugin_dir, bool sweep_first);
    void stop_transports();
    int poll_transports(bool sleeping);
    void shutdown(const char *why);
    void remove_runtime_dir();
    void export_environment(const std::string &config_path, const std::string &plugin_dir);
    std::string config_for(const Transport &t) const;
    int watch_signals();

    HubOptions options_;
    Log log_;
    EventLoop loop_;
    std::unique_ptr<Broker> broker_;
    std::vector<std::unique_ptr<Transport>> transports_;
    std::string instance_;
    std::string runtime_base_;
    std::string instance_dir_;
    bool base_is_default_ = true;
    bool created_instance_dir_ = false;
    bool created_base_dir_ = false;
    int signal_fd_ = -1;
};

} // namespace ipchub::core
