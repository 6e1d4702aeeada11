// Channel subscriptions (core/router.*).
#include "connection.hpp"
#include "router.hpp"

#include <doctest/doctest.h>

#include <set>

using ipchub::core::Connection;
using ipchub::core::Router;

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
    CHECK(r.subscribe(&a, "news"));
    CHECK(r.subscribe(&b, "news"));
    CHECK(r.subscribe(&c, "sport"));
    CHECK(reached(r, "news") == std::set<Connection *>{&a, &b});
    CHECK(reached(r, "sport") == std::set<Connection *>{&c});
    CHECK(reached(r, "weather").empty());
    CHECK(r.subscriber_count("news") == 2);
    CHECK(channels(r) == 2);
}

TEST_CASE("router: subscribing twice delivers once") {
    Router r;
    Connection a;
    CHECK(r.subscribe(&a, "x"));
    CHECK_FALSE(r.subscribe(&a, "x"));
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
    CHECK(r.subscribe(&a, "x"));         // and it may come back as new
}
