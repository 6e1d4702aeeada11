#include "event_loop.hpp"

#include <ipchub/plugin.h>

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

uint32_t to_epoll(uint32_t events) {
    uint32_t e = 0;
    if (events & IPCHUB_EV_READ) e |= EPOLLIN;
    if (events & IPCHUB_EV_WRITE) e |= EPOLLOUT;
    return e;
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

void EventLoop::run_once(int max_wait_ms) {
    epoll_event events[64];
    int n = ::epoll_wait(epfd_, events, 64, next_timeout(max_wait_ms));
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
