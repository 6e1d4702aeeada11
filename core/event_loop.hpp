// The hub's one event loop: epoll for descriptors, a timer heap, and a
// thread-safe post queue woken through an eventfd. Everything in the hub runs
// on the thread that calls run(); only post() may be called from elsewhere.
//
// Optionally it spins (set_spin): after activity it keeps polling, the
// transports through a poller and the descriptors through a zero-timeout
// epoll_wait, for a bounded time before it sleeps. That trades CPU for the
// cost of being woken (~10 us on a 2-vCPU VM); an idle loop still sleeps.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

struct epoll_event;

namespace ipchub::core {

class EventLoop {
public:
    using FdHandler = std::function<void(uint32_t events)>; // IPCHUB_EV_* bits
    using Task = std::function<void()>;

    EventLoop();
    ~EventLoop();
    EventLoop(const EventLoop &) = delete;
    EventLoop &operator=(const EventLoop &) = delete;

    // Level-triggered unless `events` has IPCHUB_EV_EDGE; watching a watched
    // fd again replaces events and handler. Unknown bits: -EINVAL.
    int watch(int fd, uint32_t events, FdHandler handler);
    int unwatch(int fd);

    int64_t add_timer(uint32_t delay_ms, bool repeat, Task task);
    void cancel_timer(int64_t id);

    // Thread-safe.
    int post(Task task);

    // Runs once after every batch of events: where deferred work (flushing
    // backlogs, closing connections) happens, so one wake-up serves many events.
    void set_after_batch(Task task) { after_batch_ = std::move(task); }

    // Spinning: `spin_us` > 0 makes run_once poll for that long after the
    // last activity before it blocks. `poller(sleeping)` is called on every
    // round (sleeping = false) and once before blocking (sleeping = true);
    // it returns > 0 when it handled something, which restarts the spin.
    using Poller = std::function<int(bool sleeping)>;
    void set_spin(uint32_t spin_us, Poller poller);
    uint32_t spin_us() const { return spin_us_; }

    // Waits at most `max_wait_ms` (< 0: until an event or timer), dispatches.
    // A spin does not count against max_wait_ms: it ends when a descriptor is
    // ready, a timer is due, quit() was called or spin_us passed without
    // work, and only then does the max_wait_ms wait begin. Work the spin
    // finds is handled inside the call.
    void run_once(int max_wait_ms);
    void quit() { quit_ = true; }
    bool quitting() const { return quit_; }
    void run() {
        while (!quit_) run_once(-1);
    }

private:
    struct Watch {
        int fd;
        FdHandler handler;
    };
    struct Timer {
        uint32_t period_ms;
        bool repeat;
        Task task;
    };
    static uint64_t now_ms();
    static uint64_t now_ns();
    int next_timeout(int max_wait_ms) const;
    int spin_then_wait(epoll_event *events, int max_events, int max_wait_ms);
    int poll_transports(bool sleeping);
    void run_timers();
    void run_posted();

    int epfd_ = -1;
    int wakefd_ = -1;
    uint64_t next_key_ = 1;
    std::unordered_map<int, uint64_t> key_of_fd_;
    // Handlers run in place; one that unwatches or replaces itself while it
    // runs is only retired, and freed after the batch.
    std::unordered_map<uint64_t, std::unique_ptr<Watch>> watches_;
    std::vector<std::unique_ptr<Watch>> retired_;
    int64_t next_timer_ = 1;
    std::multimap<uint64_t, int64_t> deadlines_;
    std::unordered_map<int64_t, std::pair<uint64_t, Timer>> timers_;
    std::mutex post_mutex_;
    std::vector<Task> posted_;
    Task after_batch_;
    uint32_t spin_us_ = 0;
    Poller poller_;
    // The last round had traffic (descriptor events or poller work): only
    // then is spinning worth it. A timer alone (housekeeping) does not count,
    // or an idle hub would spin after every tick.
    bool active_ = false;
    // The poller was told the loop spins (and may have stopped asking to be
    // woken); it must be told the loop sleeps before any blocking wait.
    bool poller_spinning_ = false;
    bool quit_ = false;
};

} // namespace ipchub::core
