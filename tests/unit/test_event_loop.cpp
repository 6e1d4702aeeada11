// The hub's event loop (core/event_loop.*): edge-triggered watches and the
// optional spin before sleeping.
#include "event_loop.hpp"

#include <ipchub/plugin.h>

#include <doctest/doctest.h>

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

using ipchub::core::EventLoop;

namespace {
struct EventFd {
    int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ~EventFd() { ::close(fd); }
    void ring() const {
        uint64_t one = 1;
        REQUIRE(::write(fd, &one, sizeof one) == sizeof one);
    }
};

// Some traffic, so the next run_once spins (a loop only spins after
// activity, not after an idle timeout or a housekeeping timer).
void traffic(EventLoop &loop, const EventFd &e) {
    REQUIRE(loop.watch(e.fd, IPCHUB_EV_READ | IPCHUB_EV_EDGE, [](uint32_t) {}) == 0);
    e.ring();
    loop.run_once(0);
}
} // namespace

TEST_CASE("event loop: a level-triggered descriptor fires until it is read") {
    EventLoop loop;
    EventFd e;
    int calls = 0;
    REQUIRE(loop.watch(e.fd, IPCHUB_EV_READ, [&](uint32_t) { ++calls; }) == 0);
    e.ring();
    for (int i = 0; i < 3; ++i) loop.run_once(0);
    CHECK(calls == 3);
    loop.unwatch(e.fd);
}

TEST_CASE("event loop: an edge-triggered descriptor fires once per write, unread") {
    EventLoop loop;
    EventFd e;
    int calls = 0;
    REQUIRE(loop.watch(e.fd, IPCHUB_EV_READ | IPCHUB_EV_EDGE, [&](uint32_t events) {
        CHECK((events & IPCHUB_EV_READ) != 0);
        ++calls;
    }) == 0);
    e.ring();
    for (int i = 0; i < 3; ++i) loop.run_once(0);
    CHECK(calls == 1); // never read, yet quiet until the next write
    e.ring();          // the counter is already non-zero: still a new edge
    for (int i = 0; i < 3; ++i) loop.run_once(0);
    CHECK(calls == 2);
    loop.unwatch(e.fd);
}

TEST_CASE("event loop: unknown event bits are refused") {
    EventLoop loop;
    EventFd e;
    CHECK(loop.watch(e.fd, IPCHUB_EV_READ | 0x100u, [](uint32_t) {}) == -EINVAL);
    CHECK(loop.unwatch(e.fd) == -ENOENT); // nothing was registered
    // HANGUP is only ever reported, but 1.0 hosts accepted it in a request.
    CHECK(loop.watch(e.fd, IPCHUB_EV_READ | IPCHUB_EV_HANGUP, [](uint32_t) {}) == 0);
    loop.unwatch(e.fd);
}

TEST_CASE("event loop: without spin_us the poller is never called") {
    EventLoop loop;
    EventFd e;
    int polls = 0;
    loop.set_spin(0, [&](bool) { return ++polls, 0; });
    traffic(loop, e);
    loop.run_once(20);
    CHECK(polls == 0);
}

TEST_CASE("event loop: no spin without traffic: an idle loop sleeps at once") {
    EventLoop loop;
    int polls = 0;
    loop.set_spin(1000000, [&](bool) { return ++polls, 0; });
    auto start = std::chrono::steady_clock::now();
    loop.run_once(20);
    CHECK(polls == 0);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(500));
}

TEST_CASE("event loop: a spin cut short by a timer still arms the poller before the loop blocks") {
    EventLoop loop;
    EventFd e;
    int spinning_polls = 0, sleeping_polls = 0;
    loop.set_spin(1000000, [&](bool sleeping) {
        (sleeping ? sleeping_polls : spinning_polls)++;
        return 0;
    });
    traffic(loop, e);
    bool fired = false;
    loop.add_timer(5, false, [&] { fired = true; });
    while (!fired) loop.run_once(-1); // spins until the timer is due
    CHECK(spinning_polls > 0);
    CHECK(sleeping_polls == 0);
    loop.run_once(20); // no traffic since: no spin, but the poller must hear that the loop sleeps
    CHECK(sleeping_polls == 1);
    loop.run_once(20);
    CHECK(sleeping_polls == 1); // once is enough
}

TEST_CASE("event loop: spinning polls, then arms the wake-ups once and sleeps") {
    EventLoop loop;
    EventFd e;
    traffic(loop, e);
    int spinning_polls = 0, sleeping_polls = 0;
    loop.set_spin(2000, [&](bool sleeping) {
        (sleeping ? sleeping_polls : spinning_polls)++;
        return 0;
    });
    auto start = std::chrono::steady_clock::now();
    loop.run_once(100); // nothing happens: spin 2 ms, then block until the 100 ms are up
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(spinning_polls >= 1);
    CHECK(sleeping_polls == 1);
    CHECK(took >= std::chrono::milliseconds(90)); // it did sleep (no early return)
}

TEST_CASE("event loop: work found by the poller is flushed at once and restarts the spin") {
    EventLoop loop;
    EventFd e;
    traffic(loop, e);
    int batches = 0, sleeping_polls = 0, spinning_polls = 0;
    loop.set_after_batch([&] { ++batches; });
    loop.set_spin(1000, [&](bool sleeping) {
        if (sleeping) {
            // Something arrived while the wake-ups were being armed: the loop
            // must not sleep on it.
            return ++sleeping_polls == 1 ? 1 : 0;
        }
        return ++spinning_polls <= 3 ? 1 : 0; // three rounds with work
    });
    loop.run_once(30);
    CHECK(spinning_polls > 3);
    CHECK(sleeping_polls == 2);
    CHECK(batches >= 4 + 1); // after each round with work, and once after run_once
}

TEST_CASE("event loop: a descriptor that becomes ready during the spin ends it") {
    EventLoop loop;
    EventFd warmup, e; // a fresh descriptor: nothing pending on it before the spin
    int calls = 0, polls = 0;
    traffic(loop, warmup);
    REQUIRE(loop.watch(e.fd, IPCHUB_EV_READ | IPCHUB_EV_EDGE, [&](uint32_t) { ++calls; }) == 0);
    loop.set_spin(1000000, [&](bool) {
        if (++polls == 5) e.ring(); // as if a client wrote to the socket meanwhile
        return 0;
    });
    auto start = std::chrono::steady_clock::now();
    loop.run_once(-1);
    CHECK(polls >= 5); // the spin ran until the write, not less
    CHECK(calls == 1);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(900)); // not the whole 1 s spin
    loop.unwatch(e.fd);
}

TEST_CASE("event loop: a timer that falls due ends the spin") {
    EventLoop loop;
    EventFd e;
    traffic(loop, e);
    bool fired = false;
    loop.add_timer(5, false, [&] { fired = true; });
    loop.set_spin(1000000, [](bool) { return 0; });
    auto start = std::chrono::steady_clock::now();
    while (!fired) loop.run_once(-1);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(900));
}
