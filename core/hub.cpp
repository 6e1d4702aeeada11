#include "hub.hpp"

#include "fatal_signal.hpp"
#include "host_bridge.hpp"
#include "instance_lock.hpp"
#include "paths.hpp"

#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace ipchub::core {

namespace {

constexpr size_t kErrLen = 512;

std::string join(const std::vector<std::string> &items) {
    std::string out;
    for (auto &s : items) out += (out.empty() ? "" : ", ") + s;
    return out;
}

} // namespace

Hub::Hub(HubOptions options) : options_(std::move(options)) { log_.set_verbosity(options_.verbosity); }

Hub::~Hub() {
    if (signal_fd_ >= 0) ::close(signal_fd_);
}

int Hub::watch_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    // Blocked before any plugin starts a thread, so threads inherit the mask
    // and the signals always arrive through the loop.
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal_fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (signal_fd_ < 0) return -errno;
    return loop_.watch(signal_fd_, IPCHUB_EV_READ, [this](uint32_t) {
        signalfd_siginfo info{};
        if (::read(signal_fd_, &info, sizeof info) == sizeof info)
            shutdown(info.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
    });
}

bool Hub::start_transports(const HubConfig &config, const std::string &plugin_dir, bool sweep_first) {
    FatalSignalReport crash_report; // a plugin that kills the hub before it runs is named
    PluginSetLoad set = load_enabled_plugins(config, plugin_dir, [&](const PluginSpec &spec, const std::string &path) {
        crash_report.mark(spec.name, path, "load");
    });
    crash_report.clear();
    for (auto &line : set.skipped) log_.error("skipping " + line);
    if (set.fatal) {
        log_.error("a required plugin failed to load; not starting");
        return false;
    }
    for (auto &plugin : set.plugins) {
        auto t = std::make_unique<Transport>();
        t->plugin = std::move(plugin);
        t->table = &t->plugin->api();
        t->label = t->plugin->name();
        t->hub = this;
        bind_host(*t);
        const PluginSpec &spec = t->plugin->spec();
        ipchub_hub_params params{};
        params.abi_version = IPCHUB_ABI_VERSION;
        params.struct_size = sizeof params;
        params.instance = instance_.c_str();
        params.runtime_dir = instance_dir_.c_str();
        std::string config_json = config_for(*t);
        params.config_json = config_json.c_str();
        t->max_frame = frame_limit(config.hub.max_message_size, t->api().max_frame_size);
        t->max_message = message_limit(config.hub.max_message_size, t->api().max_frame_size);
        params.max_frame_size = t->max_frame;
        params.file_mode = config.hub.file_mode;
        params.spin_us = config.hub.spin_us;
        char err[kErrLen] = {};
        std::string who = "plugin '" + t->name() + "' (" + t->plugin->path() + ")";
        if (sweep_first && t->api().sweep) {
            crash_report.mark(t->name(), t->plugin->path(), "sweep");
            if (int rc = t->api().sweep(&params, err, sizeof err); rc < 0)
                log_.warn(who + ": sweep of the dead hub's objects failed: " + err);
        }
        crash_report.mark(t->name(), t->plugin->path(), "init");
        int rc = t->api().hub_init(&t->host, &params, &t->state, err, sizeof err);
        if (rc < 0) {
            log_.error("skipping " + who + ": init failed: " + (*err ? err : std::strerror(-rc)));
            if (spec.required) return false;
            continue;
        }
        crash_report.mark(t->name(), t->plugin->path(), "start");
        rc = t->api().hub_start(t->state, err, sizeof err);
        crash_report.clear();
        if (rc < 0) {
            log_.error("skipping " + who + ": start failed: " + (*err ? err : std::strerror(-rc)));
            t->api().hub_cleanup(t->state);
            if (spec.required) return false;
            continue;
        }
        t->started = true;
        log_.debug("started " + who);
        log_.info("transport '" + t->name() + "': frames up to " + std::to_string(t->max_frame) + " bytes, messages up to " +
                  std::to_string(t->max_message) + " bytes" +
                  (t->max_frame == t->api().max_frame_size ? " (the transport's own limit)" : ""));
        transports_.push_back(std::move(t));
    }
    return true;
}

std::string Hub::config_for(const Transport &t) const {
    const std::string &text = t.plugin->spec().config_json;
    if (options_.spawn.empty() || !(t.api().capabilities & IPCHUB_CAP_SPAWNED_CHILDREN)) return text;
    nlohmann::json config = nlohmann::json::parse(text);
    nlohmann::json &children = config["children"];
    if (!children.is_array()) children = nlohmann::json::array();
    size_t n = 0;
    for (auto &command : options_.spawn)
        children.push_back({{"name", "spawn-" + std::to_string(++n)}, {"command", command}});
    return config.dump();
}

// Children the hub starts (and any program run from them) find this very hub
// and its transports without being told: they inherit these variables.
void Hub::export_environment(const std::string &config_path, const std::string &plugin_dir) {
    ::setenv("IPCHUB_INSTANCE", instance_.c_str(), 1);
    ::setenv("IPCHUB_RUNTIME_DIR", runtime_base_.c_str(), 1);
    ::setenv("IPCHUB_CONFIG", config_path.c_str(), 1);
    ::setenv("IPCHUB_PLUGIN_DIR", plugin_dir.c_str(), 1);
}

// One spin round (or the last one before sleeping) over every transport
// that can be polled. > 0: something was handled.
int Hub::poll_transports(bool sleeping) {
    int handled = 0;
    for (auto &t : transports_) {
        auto poll = t->poller();
        if (!poll || t->poll_failed) continue;
        int rc = poll(t->state, sleeping ? 1 : 0);
        if (rc < 0) {
            t->poll_failed = true;
            if (!sleeping) (void)poll(t->state, 1); // one chance to re-arm its wake-ups before it is left alone
            log_.warn("transport '" + t->name() + "': hub_poll failed (" + std::strerror(-rc) +
                      "); it is served by its descriptors only from now on");
        } else {
            handled += rc;
        }
    }
    return handled;
}

void Hub::stop_transports() {
    for (auto &t : transports_)
        if (t->started) t->api().hub_stop(t->state);
}

void Hub::shutdown(const char *why) {
    if (loop_.quitting()) return;
    log_.info(std::string("shutting down (") + why + ")");
    loop_.quit();
}

void Hub::remove_runtime_dir() {
    if (created_instance_dir_ || ::access(instance_dir_.c_str(), F_OK) == 0) {
        if (::rmdir(instance_dir_.c_str()) != 0 && errno != ENOENT)
            log_.warn("could not remove " + instance_dir_ + ": " + std::strerror(errno) +
                      " (something other than this hub left files there)");
    }
    // Only if empty: other instances may live there. A base the user named is
    // left alone unless this hub created it.
    if (base_is_default_ || created_base_dir_) ::rmdir(runtime_base_.c_str());
}

int Hub::run() {
    ::signal(SIGPIPE, SIG_IGN);

    std::string config_path = options_.config_path.empty() ? find_default_config() : options_.config_path;
    if (config_path.empty()) {
        std::string tried;
        for (auto &c : default_config_candidates()) tried += "\n  " + c;
        log_.error("no plugins.json found; looked in:" + tried + "\n(use --config FILE)");
        return 2;
    }
    HubConfig config;
    try {
        config = load_config_file(config_path);
    } catch (const ConfigError &e) {
        log_.error(e.what());
        return 2;
    }
    if (options_.spin_us) config.hub.spin_us = *options_.spin_us;
    Endpoint ep;
    try {
        ep = resolve_endpoint(options_.instance, options_.runtime_dir);
    } catch (const std::exception &e) {
        log_.error(e.what());
        return 2;
    }
    instance_ = ep.instance;
    runtime_base_ = ep.runtime_base;
    instance_dir_ = ep.instance_dir;
    base_is_default_ = ep.base_is_default;

    created_base_dir_ = ::access(runtime_base_.c_str(), F_OK) != 0;
    if (int rc = make_dirs(runtime_base_, 0700); rc < 0) {
        log_.error("cannot create runtime directory " + runtime_base_ + ": " + std::strerror(-rc));
        return 1;
    }
    if (::mkdir(instance_dir_.c_str(), 0700) == 0) {
        created_instance_dir_ = true;
    } else if (errno != EEXIST) {
        log_.error("cannot create " + instance_dir_ + ": " + std::strerror(errno));
        return 1;
    }
    ::chmod(instance_dir_.c_str(), 0700);

    InstanceLock lock;
    std::string lock_error;
    pid_t previous = 0;
    auto got = lock.acquire(instance_dir_ + "/hub.lock", lock_error, previous);
    if (got == InstanceLock::Result::held) {
        log_.error("instance '" + instance_ + "' is " + lock_error);
        return 1;
    }
    bool sweep = got == InstanceLock::Result::taken_over;
    if (sweep)
        log_.warn("instance '" + instance_ + "': hub pid " + std::to_string(previous) +
                  " died without cleaning up; taking over and removing what it left");

    broker_ = std::make_unique<Broker>(config.hub, log_, instance_);
    broker_->transport_names = [this] {
        std::vector<std::string> names;
        for (auto &t : transports_) names.push_back(t->name());
        return names;
    };
    loop_.set_after_batch([this] { broker_->after_batch(); });
    // Backlogs keep their memory while busy; give back what bursts left behind.
    loop_.add_timer(10000, true, [this] { broker_->release_idle_memory(); });

    int exit_code = 0;
    // Children the hub starts search exactly where the hub did.
    std::string plugin_dir = plugin_search_path(config, options_.plugin_dir);
    export_environment(config_path, plugin_dir);
    if (int rc = watch_signals(); rc < 0) {
        log_.error(std::string("cannot watch signals: ") + std::strerror(-rc));
        exit_code = 1;
    } else if (!start_transports(config, plugin_dir, sweep)) {
        exit_code = 1;
    } else if (transports_.empty()) {
        log_.error("no transport could be started (config " + config_path + ")");
        exit_code = 1;
    } else {
        std::vector<std::string> names;
        for (auto &t : transports_) names.push_back(t->name());
        std::printf("IPC Hub started\nBackends available: %s\nListening for connections...\n", join(names).c_str());
        std::fflush(stdout);
        log_.info("instance '" + instance_ + "' in " + instance_dir_ + ", config " + config_path);
        if (config.hub.spin_us > 0) {
            log_.info("spinning up to " + std::to_string(config.hub.spin_us) + " us after activity before sleeping");
            loop_.set_spin(config.hub.spin_us, [this](bool sleeping) { return poll_transports(sleeping); });
        }
        loop_.run();
    }

    // stop: no new clients, tell the others, let backlogs drain for a bounded time.
    stop_transports();
    broker_->begin_shutdown();
    broker_->after_batch();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config.hub.shutdown_drain_ms);
    while (!broker_->drained() && std::chrono::steady_clock::now() < deadline) loop_.run_once(50);
    broker_->close_all();
    // cleanup: every named object of this instance goes, then the plugins.
    for (auto &t : transports_) t->api().hub_cleanup(t->state);
    transports_.clear(); // dlclose
    if (signal_fd_ >= 0) {
        loop_.unwatch(signal_fd_);
        ::close(signal_fd_);
        signal_fd_ = -1;
    }
    lock.release();
    remove_runtime_dir();
    if (exit_code == 0) log_.info("stopped; removed " + instance_dir_);
    return exit_code;
}

} // namespace ipchub::core
