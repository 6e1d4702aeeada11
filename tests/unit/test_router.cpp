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
    CHECK(r.channel_count() == 2);
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
    CHECK(r.channel_count() == 0);
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
    CHECK(r.subscriptions_of(&a) == nullptr);
    CHECK(r.channel_count() == 1);
    r.remove(&a); // twice is harmless
}
