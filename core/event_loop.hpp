// The hub's one event loop: epoll for descriptors, a timer heap, and a
// thread-safe post queue woken through an eventfd. Everything in the hub runs
// on the thread that calls run(); only post() may be called from elsewhere.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace ipchub::core {

class EventLoop {
public:
    using FdHandler = std::function<void(uint32_t events)>; // IPCHUB_EV_* bits
    using Task = std::function<void()>;

    EventLoop();
    ~EventLoop();
    EventLoop(const EventLoop &) = delete;
    EventLoop &operator=(const EventLoop &) = delete;

    // Level-triggered; watching a watched fd again replaces events and handler.
    int watch(int fd, uint32_t events, FdHandler handler);
    int unwatch(int fd);

    int64_t add_timer(uint32_t delay_ms, bool repeat, Task task);
    void cancel_timer(int64_t id);

    // Thread-safe.
    int post(Task task);

    // Runs once after every batch of events: where deferred work (flushing
    // backlogs, closing connections) happens, so one wake-up serves many events.
    void set_after_batch(Task task) { after_batch_ = std::move(task); }

    // Waits at most `max_wait_ms` (< 0: until an event or timer), dispatches.
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
    int next_timeout(int max_wait_ms) const;
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
    bool quit_ = false;
};

} // namespace ipchub::core
