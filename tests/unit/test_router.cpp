// Channel subscriptions (core/router.*).
#include "connection.hpp"
#include "router.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

using ipchub::core::Connection;
using ipchub::core::Router;
using Subscribed = Router::Subscribed;

namespace {
std::set<Connection *> reached(const Router &r, std::string_view channel) {
    std::set<Connection *> out;
    r.for_each_subscriber(channel, [&](Connection *c) { out.insert(c); });
    return out;
}

// The channels stats would report.
size_t channels(const Router &r) {
    size_t n = 0;
    r.for_each_channel([&](const std::string &, size_t) { ++n; });
    return n;
}
} // namespace

TEST_CASE("router: fan-out reaches every subscriber of the channel and nobody else") {
    Router r;
    Connection a, b, c;
    CHECK(r.subscribe(&a, "news") == Subscribed::added);
    CHECK(r.subscribe(&b, "news") == Subscribed::added);
    CHECK(r.subscribe(&c, "sport") == Subscribed::added);
    CHECK(reached(r, "news") == std::set<Connection *>{&a, &b});
    CHECK(reached(r, "sport") == std::set<Connection *>{&c});
    CHECK(reached(r, "weather").empty());
    CHECK(r.subscriber_count("news") == 2);
    CHECK(channels(r) == 2);
}

TEST_CASE("router: subscribing twice delivers once") {
    Router r;
    Connection a;
    CHECK(r.subscribe(&a, "x") == Subscribed::added);
    CHECK(r.subscribe(&a, "x") == Subscribed::already);
    CHECK(r.for_each_subscriber("x", [](Connection *) {}) == 1);
}

TEST_CASE("router: unsubscribe stops delivery and forgets empty channels") {
    Router r;
    Connection a, b;
    r.subscribe(&a, "x");
    r.subscribe(&b, "x");
    CHECK(r.unsubscribe(&a, "x"));
    CHECK(reached(r, "x") == std::set<Connection *>{&b});
    CHECK_FALSE(r.unsubscribe(&a, "x"));
    CHECK_FALSE(r.unsubscribe(&a, "never"));
    CHECK(r.unsubscribe(&b, "x"));
    CHECK(channels(r) == 0);
}

TEST_CASE("router: a disconnected client's subscriptions vanish") {
    Router r;
    Connection a, b;
    r.subscribe(&a, "x");
    r.subscribe(&a, "y");
    r.subscribe(&b, "y");
    r.remove(&a);
    CHECK(reached(r, "x").empty());
    CHECK(reached(r, "y") == std::set<Connection *>{&b});
    CHECK(channels(r) == 1);
    CHECK_FALSE(r.unsubscribe(&a, "y")); // nothing left to unsubscribe from
    r.remove(&a);                        // twice is harmless
    CHECK(r.subscribe(&a, "x") == Subscribed::added); // and it may come back as new
}

TEST_CASE("router: the caps on subscriptions per connection and on channels hold and free slots are reusable") {
    Router r(Router::Limits{2, 3});
    Connection a, b;
    CHECK(r.subscribe(&a, "one") == Subscribed::added);
    CHECK(r.subscribe(&a, "two") == Subscribed::added);
    CHECK(r.subscribe(&a, "two") == Subscribed::already); // a duplicate is not refused as a third
    CHECK(r.subscribe(&a, "three") == Subscribed::too_many_subscriptions);
    CHECK(r.subscription_count(&a) == 2);
    CHECK(r.subscribe(&b, "one") == Subscribed::added); // an existing channel costs no channel slot
    CHECK(r.subscribe(&b, "three") == Subscribed::added);
    CHECK(r.subscribe(&b, "four") == Subscribed::too_many_subscriptions);
    r.remove(&b);
    CHECK(r.subscribe(&b, "four") == Subscribed::added);
    Connection c;
    CHECK(r.subscribe(&c, "five") == Subscribed::too_many_channels);
    CHECK(r.channel_count() == 3);
    CHECK(r.unsubscribe(&b, "four"));
    CHECK(r.subscribe(&c, "five") == Subscribed::added);
}

TEST_CASE("router: removal keeps every other subscriber reachable exactly once") {
    Router r;
    std::vector<Connection> conns(50);
    for (auto &c : conns) r.subscribe(&c, "x");
    for (size_t i = 0; i < conns.size(); i += 3) CHECK(r.unsubscribe(&conns[i], "x"));
    std::multiset<Connection *> seen;
    r.for_each_subscriber("x", [&](Connection *c) { seen.insert(c); });
    for (size_t i = 0; i < conns.size(); ++i) CHECK(seen.count(&conns[i]) == (i % 3 == 0 ? 0u : 1u));
}

// 40,000 subscriptions on one connection, then duplicates, unsubscribes and a
// disconnect: with per-operation costs linear in the subscriptions held this
// took minutes (n^2 = 1.6e9 comparisons of strings); it must take well under
// a second per pass. The bound is generous on purpose (a noisy machine).
TEST_CASE("router: 40000 subscriptions on one connection cost O(1) per operation") {
    Router r;
    Connection a, b;
    std::vector<std::string> names;
    for (int i = 0; i < 40000; ++i) names.push_back("c" + std::to_string(i));
    auto start = std::chrono::steady_clock::now();
    for (auto &n : names) r.subscribe(&a, n);
    for (int round = 0; round < 5; ++round)
        for (auto &n : names) CHECK_FALSE(r.subscribe(&a, n) == Subscribed::added); // the duplicate burst
    for (auto &n : names) r.subscribe(&b, n);
    for (size_t i = 0; i < names.size(); i += 2) r.unsubscribe(&a, names[i]);
    r.remove(&a);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(r.channel_count() == names.size());
    CHECK(r.subscription_count(&b) == names.size());
    CHECK(seconds < 10.0);
}
