#include "clock.hpp"
#include "spin.hpp"
#include "wait_fd.hpp"

#include <doctest/doctest.h>

#include <poll.h>
#include <unistd.h>

using namespace ipchub::plugin;

TEST_CASE("clock: a negative timeout is no deadline") {
    Deadline d = Deadline::after_ms(-1);
    CHECK(d.is_never());
    CHECK(d.left_ms() == -1);
    CHECK_FALSE(d.passed());
    CHECK(Deadline::never().left_ms() == -1);
}

TEST_CASE("clock: a deadline counts down to 0 and then stays there") {
    Deadline now = Deadline::after_ms(0);
    CHECK(now.left_ms() == 0);
    CHECK(now.passed());
    Deadline later = Deadline::after_ms(10000);
    CHECK_FALSE(later.passed());
    CHECK(later.left_ms() > 9000);
    CHECK(later.left_ms() <= 10000);
    Deadline soon = Deadline::after_ms(20);
    ::usleep(40000);
    CHECK(soon.passed());
    CHECK(soon.left_ms() == 0);
}

TEST_CASE("clock: the three monotonic clocks agree") {
    long long ms = monotonic_ms(), us = monotonic_us(), ns = monotonic_ns();
    CHECK(us / 1000 >= ms);
    CHECK(us / 1000 - ms < 100);
    CHECK(ns / 1000 >= us);
}

TEST_CASE("clock: wait_fd times out at the deadline and reports readiness") {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    long long before = monotonic_ms();
    CHECK(wait_fd(p[0], POLLIN, Deadline::after_ms(30)) == 0);
    CHECK(monotonic_ms() - before >= 29);
    REQUIRE(::write(p[1], "x", 1) == 1);
    CHECK(wait_fd(p[0], POLLIN, 1000) == 1);
    ::close(p[0]);
    ::close(p[1]);
}

TEST_CASE("clock: spin_until returns as soon as ready, false when the time is up") {
    int rounds = 0;
    CHECK(spin_until(1000000, [&] { return ++rounds == 3; }));
    CHECK(rounds == 3);
    CHECK_FALSE(spin_until(100, [] { return false; }));
    CHECK_FALSE(spin_until(0, [] { return true; })); // 0: never spins
}
