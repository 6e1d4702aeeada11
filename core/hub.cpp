#include "hub.hpp"

#include "fatal_signal.hpp"
#include "fd_limit.hpp"
#include "instance_lock.hpp"
#include "paths.hpp"
#include "runtime_dir.hpp"

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

constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

const char *stop_signal_name(int sig) {
    switch (sig) {
    case SIGINT: return "SIGINT";
    case SIGHUP: return "SIGHUP";
    case SIGQUIT: return "SIGQUIT";
    default: return "SIGTERM";
    }
}

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

// The lifecycle of DESIGN.md, one named step each. Once the instance is
// locked every path leaves through stop, cleanup and unload, so whatever
// was started is taken down in the reverse order.
int Hub::run() {
    ::signal(SIGPIPE, SIG_IGN);
    raise_open_file_limit(log_);
    if (int rc = read_config(); rc != 0) return rc;
    if (int rc = make_runtime_dir(); rc != 0) return rc;
    InstanceLock lock;
    bool took_over = false;
    if (int rc = lock_instance(lock, took_over); rc != 0) return rc;

    create_broker();
    export_environment();
    bool ok = watch_signals() && bring_up_plugins(took_over);
    if (ok) {
        std::vector<std::string> offered;
        for (auto &p : plugins_) offered.push_back(p->name());
        lock.record_backends(offered); // for clients of a backend not offered (sdk/src/running_hub.cpp)
        serve();
    }
    stop();
    cleanup();
    unload();

    unwatch_signals();
    lock.release();
    remove_runtime_dir();
    if (ok) log_.info("stopped; removed " + instance_dir_);
    return ok ? 0 : 1;
}

// plugins.json (or --config), with --spin-us applied over it.
int Hub::read_config() {
    config_path_ = options_.config_path.empty() ? find_default_config() : options_.config_path;
    if (config_path_.empty()) {
        std::string tried;
        for (auto &c : default_config_candidates()) tried += (tried.empty() ? "" : ", ") + c;
        log_.error("no plugins.json found; looked in: " + tried + " (use --config FILE)"); // one line: the log escapes newlines
        return 2;
    }
    try {
        config_ = load_config_file(config_path_);
    } catch (const ConfigError &e) {
        log_.error(e.what());
        return 2;
    }
    if (options_.spin_us) config_.hub.spin_us = *options_.spin_us;
    // --plugin-dir, then plugins.json's plugin_dirs, then the default; children
    // the hub starts search exactly where the hub did.
    plugin_dir_ = plugin_search_path(config_, options_.plugin_dir);
    return 0;
}

// The instance's directory (and its parent), private to this user.
int Hub::make_runtime_dir() {
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

    // Refuse (exit 2) anything another user created or can change: see
    // runtime_dir.hpp. The checks run on every directory, created or reused.
    const uid_t me = ::geteuid();
    const unsigned dir_mode = dir_mode_for(config_.hub.file_mode);
    auto refuse = [this](const std::string &why) {
        log_.error("refusing the runtime directory: " + why +
                   " (remove it, or choose another directory with --runtime-dir or IPCHUB_RUNTIME_DIR)");
        return 2;
    };
    if (std::string why = check_parent_dirs(runtime_base_, me); !why.empty()) return refuse(why);
    struct stat st {};
    created_base_dir_ = ::lstat(runtime_base_.c_str(), &st) != 0 && errno == ENOENT;
    if (int rc = make_dirs(runtime_base_, dir_mode); rc < 0) {
        log_.error("cannot create runtime directory " + runtime_base_ + ": " + std::strerror(-rc));
        return 1;
    }
    // Again: a directory above may have appeared between the check and
    // make_dirs (someone else's, in a sticky /tmp), and make_dirs went on in it.
    if (std::string why = check_parent_dirs(runtime_base_, me); !why.empty()) return refuse(why);
    if (std::string why = check_own_dir(runtime_base_, me); !why.empty()) return refuse(why);
    if (created_base_dir_ && ::chmod(runtime_base_.c_str(), dir_mode) != 0) {
        log_.error("cannot set the mode of " + runtime_base_ + ": " + std::strerror(errno));
        return 1;
    }
    if (::mkdir(instance_dir_.c_str(), dir_mode) == 0) {
        created_instance_dir_ = true;
    } else if (errno != EEXIST) {
        log_.error("cannot create " + instance_dir_ + ": " + std::strerror(errno));
        return 1;
    }
    if (std::string why = check_own_dir(instance_dir_, me); !why.empty()) return refuse(why);
    // The umask may have taken bits off, and a reused directory may have others.
    if (::chmod(instance_dir_.c_str(), dir_mode) != 0) {
        log_.error("cannot set the mode of " + instance_dir_ + ": " + std::strerror(errno));
        return 1;
    }
    return 0;
}

// One hub per instance. `took_over`: a dead hub held it, so its leftovers
// are swept before the plugins start.
int Hub::lock_instance(InstanceLock &lock, bool &took_over) {
    std::string lock_error;
    pid_t previous = 0;
    auto got = lock.acquire(instance_dir_ + "/hub.lock", lock_error, previous);
    if (got == InstanceLock::Result::refused) {
        log_.error("instance '" + instance_ + "': " + lock_error);
        return 2;
    }
    if (got == InstanceLock::Result::held) {
        log_.error("instance '" + instance_ + "' is " + lock_error);
        return 1;
    }
    took_over = got == InstanceLock::Result::taken_over;
    if (took_over)
        log_.warn("instance '" + instance_ + "': hub pid " + std::to_string(previous) +
                  " died without cleaning up; taking over and removing what it left");
    return 0;
}

void Hub::create_broker() {
    broker_ = std::make_unique<Broker>(config_.hub, log_, instance_);
    broker_->transport_names = [this] {
        std::vector<std::string> names;
        for (auto &p : plugins_) names.push_back(p->name());
        return names;
    };
    loop_.set_after_batch([this] { broker_->after_batch(); });
    // Backlogs keep their memory while busy; give back what bursts left behind.
    loop_.add_timer(10000, true, [this] { broker_->release_idle_memory(); });
    // Connections that never say HELLO are closed after hub.hello_timeout_ms.
    loop_.add_timer(broker_->hello_check_interval_ms(), true, [this] { broker_->expire_handshakes(); });
}

// load, init and start, with a report naming the plugin and the phase if one
// of them kills the hub on the way (no report once the hub serves).
bool Hub::bring_up_plugins(bool sweep_first) {
    FatalSignalReport report;
    crash_report_ = &report;
    bool ok = load_plugins() && init_plugins(sweep_first) && start_plugins();
    crash_report_ = nullptr;
    return ok;
}

// load + negotiate: dlopen every enabled plugin and check its ABI.
bool Hub::load_plugins() {
    PluginSetLoad set = load_enabled_plugins(config_, plugin_dir_, [this](const PluginSpec &spec, const std::string &path) {
        crash_report_->mark(spec.name, path, "load");
    });
    crash_report_->clear();
    for (auto &line : set.skipped) log_.error("skipping " + line);
    if (set.fatal) {
        log_.error("a required plugin failed to load; not starting");
        return false;
    }
    for (auto &plugin : set.plugins) {
        LoopServices services{&loop_, [this, name = plugin->name()](Level level, const std::string &text) {
                                  log_.write(level, name + ": " + text);
                              }};
        plugins_.push_back(std::make_unique<HostedPlugin>(std::move(plugin), std::move(services), *broker_));
    }
    return true;
}

ipchub_hub_params Hub::hub_params(const HostedPlugin &p, const std::string &config_json) const {
    ipchub_hub_params params{};
    params.abi_version = IPCHUB_ABI_VERSION;
    params.struct_size = sizeof params;
    params.instance = instance_.c_str();
    params.runtime_dir = instance_dir_.c_str();
    params.config_json = config_json.c_str();
    params.max_frame_size = p.transport.max_frame;
    params.file_mode = config_.hub.file_mode;
    params.spin_us = config_.hub.spin_us;
    return params;
}

// init(config): each plugin validates its config and builds its state (after
// sweeping what a dead hub of this instance left). One that fails is
// skipped, unless plugins.json marks it required.
bool Hub::init_plugins(bool sweep_first) {
    for (auto it = plugins_.begin(); it != plugins_.end();) {
        HostedPlugin &p = **it;
        p.transport.max_frame = frame_limit(config_.hub.max_message_size, p.api().max_frame_size);
        p.transport.max_message = message_limit(config_.hub.max_message_size, p.api().max_frame_size);
        std::string config_json = config_for(p);
        ipchub_hub_params params = hub_params(p, config_json);
        char err[kErrLen] = {};
        std::string who = "plugin '" + p.name() + "' (" + p.plugin->path() + ")";
        if (sweep_first && p.api().sweep) {
            crash_report_->mark(p.name(), p.plugin->path(), "sweep");
            if (int rc = p.api().sweep(&params, err, sizeof err); rc < 0)
                log_.warn(who + ": sweep of the dead hub's objects failed: " + err);
        }
        crash_report_->mark(p.name(), p.plugin->path(), "init");
        if (int rc = p.api().hub_init(p.bridge.host(), &params, &p.transport.state, err, sizeof err); rc < 0) {
            log_.error("skipping " + who + ": init failed: " + (*err ? err : std::strerror(-rc)));
            if (p.plugin->spec().required) return false;
            it = plugins_.erase(it); // dlclose
            continue;
        }
        p.initialised = true;
        ++it;
    }
    return true;
}

// start: each plugin opens its rendezvous point and accepts clients.
bool Hub::start_plugins() {
    for (auto it = plugins_.begin(); it != plugins_.end();) {
        HostedPlugin &p = **it;
        char err[kErrLen] = {};
        std::string who = "plugin '" + p.name() + "' (" + p.plugin->path() + ")";
        crash_report_->mark(p.name(), p.plugin->path(), "start");
        int rc = p.api().hub_start(p.state(), err, sizeof err);
        crash_report_->clear();
        if (rc < 0) {
            log_.error("skipping " + who + ": start failed: " + (*err ? err : std::strerror(-rc)));
            p.api().hub_cleanup(p.state());
            p.initialised = false;
            p.bridge.retire();
            if (p.plugin->spec().required) return false;
            it = plugins_.erase(it);
            continue;
        }
        p.started = true;
        log_.debug("started " + who);
        const Transport &t = p.transport;
        log_.info("transport '" + p.name() + "': frames up to " + std::to_string(t.max_frame) + " bytes, messages up to " +
                  std::to_string(t.max_message) + " bytes" +
                  (t.max_frame == p.api().max_frame_size ? " (the transport's own limit)" : ""));
        ++it;
    }
    if (plugins_.empty()) {
        log_.error("no transport could be started (config " + config_path_ + ")");
        return false;
    }
    return true;
}

// run: the event loop, until SIGINT, SIGTERM, SIGHUP or SIGQUIT.
void Hub::serve() {
    std::vector<std::string> names;
    for (auto &p : plugins_) names.push_back(p->name());
    std::printf("IPC Hub started\nBackends available: %s\nListening for connections...\n", join(names).c_str());
    std::fflush(stdout);
    log_.info("instance '" + instance_ + "' in " + instance_dir_ + ", config " + config_path_);
    if (config_.hub.spin_us > 0) {
        log_.info("spinning up to " + std::to_string(config_.hub.spin_us) + " us after activity before sleeping");
        loop_.set_spin(config_.hub.spin_us, [this](bool sleeping) { return poll_transports(sleeping); });
    }
    loop_.run();
}

// stop: no new clients, tell the others, let backlogs drain for a bounded time.
void Hub::stop() {
    for (auto &p : plugins_)
        if (p->started) p->api().hub_stop(p->state());
    broker_->begin_shutdown();
    broker_->after_batch();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.hub.shutdown_drain_ms);
    while (!broker_->drained() && std::chrono::steady_clock::now() < deadline) loop_.run_once(50);
}

// cleanup: every connection closes, then every named object of this
// instance goes with its plugin's state.
void Hub::cleanup() {
    broker_->close_all();
    for (auto &p : plugins_) {
        if (!p->initialised) continue;
        p->api().hub_cleanup(p->state());
        p->bridge.retire();
    }
}

// unload: dlclose, now that no code of the plugins can run any more.
void Hub::unload() { plugins_.clear(); }

// ---- helpers of the steps ----

bool Hub::watch_signals() {
    sigset_t set;
    sigemptyset(&set);
    // SIGHUP (the terminal closed) and SIGQUIT (Ctrl+backslash) stop the hub like
    // SIGTERM: their default action would kill it without cleanup, leaving
    // the runtime directory and named queues behind.
    for (int sig : kStopSignals) sigaddset(&set, sig);
    // Blocked before any plugin starts a thread, so threads inherit the mask
    // and the signals always arrive through the loop.
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal_fd_ = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    int rc = signal_fd_ < 0 ? -errno : loop_.watch(signal_fd_, IPCHUB_EV_READ, [this](uint32_t) {
        signalfd_siginfo info{};
        if (::read(signal_fd_, &info, sizeof info) == sizeof info)
            shutdown(stop_signal_name(int(info.ssi_signo)));
    });
    if (rc < 0) log_.error(std::string("cannot watch signals: ") + std::strerror(-rc));
    return rc >= 0;
}

void Hub::unwatch_signals() {
    if (signal_fd_ < 0) return;
    loop_.unwatch(signal_fd_);
    ::close(signal_fd_);
    signal_fd_ = -1;
}

std::string Hub::config_for(const HostedPlugin &p) const {
    const std::string &text = p.plugin->spec().config_json;
    if (options_.spawn.empty() || !(p.api().capabilities & IPCHUB_CAP_SPAWNED_CHILDREN)) return text;
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
void Hub::export_environment() {
    ::setenv("IPCHUB_INSTANCE", instance_.c_str(), 1);
    ::setenv("IPCHUB_RUNTIME_DIR", runtime_base_.c_str(), 1);
    ::setenv("IPCHUB_CONFIG", config_path_.c_str(), 1);
    ::setenv("IPCHUB_PLUGIN_DIR", plugin_dir_.c_str(), 1);
}

// One spin round (or the last one before sleeping) over every transport
// that can be polled. > 0: something was handled.
int Hub::poll_transports(bool sleeping) {
    int handled = 0;
    for (auto &p : plugins_) {
        auto poll = p->poller();
        if (!poll || p->poll_failed) continue;
        int rc = poll(p->state(), sleeping ? 1 : 0);
        if (rc < 0) {
            p->poll_failed = true;
            if (!sleeping) (void)poll(p->state(), 1); // one chance to re-arm its wake-ups before it is left alone
            log_.warn("transport '" + p->name() + "': hub_poll failed (" + std::strerror(-rc) +
                      "); it is served by its descriptors only from now on");
        } else {
            handled += rc;
        }
    }
    return handled;
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

} // namespace ipchub::core
