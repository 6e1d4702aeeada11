#include "event_loop.hpp"

#include <ipchub/plugin.h>

#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace ipchub::core {

namespace {
constexpr uint64_t kWakeKey = 0;
// HANGUP is reported, never requested, but a 1.0 host ignored it in a request,
// so it stays accepted (and ignored) for plugins built then.
constexpr uint32_t kKnownEvents = IPCHUB_EV_READ | IPCHUB_EV_WRITE | IPCHUB_EV_HANGUP | IPCHUB_EV_EDGE;
// While spinning, give the CPU away on the first round and then every few
// rounds: on a machine with fewer cores than busy processes a spinner that
// never yields holds its core for a whole time slice while the process it
// waits for cannot run, and the first yield right after work lets a process
// on the same core take the message at once. Descriptors cost a system call
// to look at, so they are polled every few rounds; the transports' own
// pollers (shm rings: plain memory reads) on every round.
constexpr unsigned kYieldEvery = 4;
constexpr unsigned kEpollEvery = 4;

uint32_t to_epoll(uint32_t events) {
    uint32_t e = 0;
    if (events & IPCHUB_EV_READ) e |= EPOLLIN;
    if (events & IPCHUB_EV_WRITE) e |= EPOLLOUT;
    if (events & IPCHUB_EV_EDGE) e |= EPOLLET;
    return e;
}

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

uint32_t from_epoll(uint32_t e) {
    uint32_t events = 0;
    if (e & EPOLLIN) events |= IPCHUB_EV_READ;
    if (e & EPOLLOUT) events |= IPCHUB_EV_WRITE;
    if (e & (EPOLLERR | EPOLLHUP)) events |= IPCHUB_EV_HANGUP;
    return events;
}
} // namespace

EventLoop::EventLoop() {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wakefd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epfd_ < 0 || wakefd_ < 0) throw std::runtime_error(std::string("event loop: ") + std::strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kWakeKey;
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wakefd_, &ev);
}

EventLoop::~EventLoop() {
    if (wakefd_ >= 0) ::close(wakefd_);
    if (epfd_ >= 0) ::close(epfd_);
}

int EventLoop::watch(int fd, uint32_t events, FdHandler handler) {
    if (events & ~kKnownEvents) return -EINVAL;
    epoll_event ev{};
    ev.events = to_epoll(events);
    auto it = key_of_fd_.find(fd);
    if (it != key_of_fd_.end()) {
        ev.data.u64 = it->second;
        if (::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) != 0) return -errno;
        auto &slot = watches_[it->second];
        retired_.push_back(std::move(slot));
        slot = std::make_unique<Watch>(Watch{fd, std::move(handler)});
        return 0;
    }
    uint64_t key = next_key_++;
    ev.data.u64 = key;
    if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) != 0) return -errno;
    key_of_fd_[fd] = key;
    watches_[key] = std::make_unique<Watch>(Watch{fd, std::move(handler)});
    return 0;
}

int EventLoop::unwatch(int fd) {
    auto it = key_of_fd_.find(fd);
    if (it == key_of_fd_.end()) return -ENOENT;
    ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
    auto w = watches_.find(it->second);
    retired_.push_back(std::move(w->second));
    watches_.erase(w);
    key_of_fd_.erase(it);
    return 0;
}

uint64_t EventLoop::now_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000 + uint64_t(ts.tv_nsec) / 1000000;
}

uint64_t EventLoop::now_ns() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

void EventLoop::set_spin(uint32_t spin_us, Poller poller) {
    spin_us_ = spin_us;
    poller_ = std::move(poller);
}

int64_t EventLoop::add_timer(uint32_t delay_ms, bool repeat, Task task) {
    if (repeat && delay_ms == 0) delay_ms = 1; // a 0 ms period would never let run_timers return
    int64_t id = next_timer_++;
    uint64_t due = now_ms() + delay_ms;
    deadlines_.emplace(due, id);
    timers_[id] = {due, Timer{delay_ms, repeat, std::move(task)}};
    return id;
}

void EventLoop::cancel_timer(int64_t id) {
    auto it = timers_.find(id);
    if (it == timers_.end()) return;
    auto range = deadlines_.equal_range(it->second.first);
    for (auto d = range.first; d != range.second; ++d) {
        if (d->second == id) {
            deadlines_.erase(d);
            break;
        }
    }
    timers_.erase(it);
}

int EventLoop::post(Task task) {
    {
        std::lock_guard<std::mutex> lock(post_mutex_);
        posted_.push_back(std::move(task));
    }
    uint64_t one = 1;
    if (::write(wakefd_, &one, sizeof one) < 0 && errno != EAGAIN) return -errno;
    return 0;
}

int EventLoop::next_timeout(int max_wait_ms) const {
    if (deadlines_.empty()) return max_wait_ms;
    uint64_t now = now_ms();
    uint64_t due = deadlines_.begin()->first;
    int until = due <= now ? 0 : int(std::min<uint64_t>(due - now, 1u << 30));
    return max_wait_ms < 0 ? until : std::min(until, max_wait_ms);
}

void EventLoop::run_timers() {
    uint64_t now = now_ms();
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
        int64_t id = deadlines_.begin()->second;
        deadlines_.erase(deadlines_.begin());
        auto it = timers_.find(id);
        if (it == timers_.end()) continue;
        Task task = it->second.second.task; // copy: the task may cancel itself
        if (it->second.second.repeat) {
            uint64_t due = now + it->second.second.period_ms;
            it->second.first = due;
            deadlines_.emplace(due, id);
        } else {
            timers_.erase(it);
        }
        task();
    }
}

void EventLoop::run_posted() {
    uint64_t count;
    while (::read(wakefd_, &count, sizeof count) > 0) {
    }
    std::vector<Task> tasks;
    {
        std::lock_guard<std::mutex> lock(post_mutex_);
        tasks.swap(posted_);
    }
    for (auto &t : tasks) t();
}

// Calls the poller, remembering whether it was last told that the loop spins.
// > 0: it handled something.
int EventLoop::poll_transports(bool sleeping) {
    if (!poller_) return 0;
    int handled = poller_(sleeping);
    // Told "sleeping" but it found work: its wake-ups may not all be armed,
    // so the loop must not block before asking again.
    poller_spinning_ = !sleeping || handled > 0;
    return handled;
}

// Polls until something happens or spin_us passed without activity, then
// sleeps in epoll_wait like the non-spinning loop. Work the poller finds is
// finished (after_batch) right here; returns ready descriptors like epoll_wait.
int EventLoop::spin_then_wait(epoll_event *events, int max_events, int max_wait_ms) {
    const uint64_t spin_ns = uint64_t(spin_us_) * 1000;
    uint64_t last_work = now_ns();
    for (unsigned idle = 1;; ++idle) { // rounds since the last work (the caller just did some)
        if (poll_transports(false) > 0) {
            if (after_batch_) after_batch_();
            last_work = now_ns();
            idle = 1;
            active_ = true;
        }
        if (idle % kEpollEvery == 1 || kEpollEvery == 1) {
            int n = ::epoll_wait(epfd_, events, max_events, 0);
            if (n != 0) return n;
        }
        if (quit_) return 0;
        if (next_timeout(max_wait_ms) == 0) return 0; // a timer is due
        if (now_ns() - last_work >= spin_ns) {
            // Arm the transports' wake-ups; whatever slipped in before that
            // is handled and the spin goes on.
            if (poll_transports(true) > 0) {
                if (after_batch_) after_batch_();
                last_work = now_ns();
                idle = 0;
                active_ = true;
                continue;
            }
            return ::epoll_wait(epfd_, events, max_events, next_timeout(max_wait_ms));
        }
        if (idle == 1 || idle % kYieldEvery == 0) // right after work: a process on this core may want it
            ::sched_yield();
        else
            cpu_relax();
    }
}

void EventLoop::run_once(int max_wait_ms) {
    epoll_event events[64];
    int timeout = next_timeout(max_wait_ms);
    bool spin = spin_us_ > 0 && timeout != 0 && active_;
    active_ = false;
    if (!spin && poller_spinning_ && timeout != 0 && poll_transports(true) > 0) {
        // A spin ended early (a timer, an event) and the poller found work
        // while arming its wake-ups: finish it and do not block now.
        if (after_batch_) after_batch_();
        active_ = true;
        timeout = 0;
    }
    int n = spin ? spin_then_wait(events, 64, max_wait_ms) : ::epoll_wait(epfd_, events, 64, timeout);
    if (n > 0) active_ = true;
    if (n < 0 && errno != EINTR) throw std::runtime_error(std::string("epoll_wait: ") + std::strerror(errno));
    for (int i = 0; i < n; ++i) {
        uint64_t key = events[i].data.u64;
        if (key == kWakeKey) {
            run_posted();
            continue;
        }
        auto it = watches_.find(key); // gone if an earlier handler of this batch unwatched it
        if (it == watches_.end()) continue;
        it->second->handler(from_epoll(events[i].events));
    }
    retired_.clear();
    run_timers();
    if (after_batch_) after_batch_();
}

} // namespace ipchub::core
