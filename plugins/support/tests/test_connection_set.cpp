#include "connection_set.hpp"

#include <doctest/doctest.h>

#include <unistd.h>

#include <vector>

using namespace ipchub::plugin;

namespace {
struct Host {
    ipchub_host table{};
    std::vector<std::pair<void *, int>> closed; // conn_closed calls
    std::vector<int> unwatched;
    bool refuse = false;
    int opened = 0;
};

Host &of(const ipchub_host *h) { return *static_cast<Host *>(h->ctx); }

struct FakeConn {
    void *host_conn = nullptr;
    int fd = -1;
    int *teardowns;
    void teardown(const ipchub_host *host) {
        ++*teardowns;
        close_watched(host, fd);
    }
};

struct Fixture {
    Host host;
    int teardowns = 0;
    Fixture() {
        host.table.ctx = &host;
        host.table.unwatch_fd = [](const ipchub_host *h, int fd) {
            of(h).unwatched.push_back(fd);
            return 0;
        };
        host.table.conn_opened = [](const ipchub_host *h, void *, const char *) -> void * {
            Host &x = of(h);
            return x.refuse ? nullptr : reinterpret_cast<void *>(uintptr_t(++x.opened));
        };
        host.table.conn_closed = [](const ipchub_host *h, void *host_conn, int reason) {
            of(h).closed.emplace_back(host_conn, reason);
        };
    }
    FakeConn *make() {
        int p[2];
        REQUIRE(::pipe(p) == 0);
        ::close(p[1]);
        return new FakeConn{nullptr, p[0], &teardowns};
    }
};
} // namespace

TEST_CASE("connection_set: a lost connection is torn down and reported exactly once") {
    Fixture fx;
    ConnectionSet<FakeConn> set(&fx.host.table);
    FakeConn *c = fx.make();
    int fd = c->fd;
    REQUIRE(set.report_opened(c, "pid 1"));
    void *host_conn = c->host_conn;
    CHECK(set.lost(c, 32));
    CHECK_FALSE(set.lost(c, 0)); // a second event for the same death: ignored
    REQUIRE(fx.host.closed.size() == 1);
    CHECK(fx.host.closed[0].first == host_conn);
    CHECK(fx.host.closed[0].second == 32);
    CHECK(fx.teardowns == 1);
    CHECK(fx.host.unwatched == std::vector<int>{fd});
    CHECK(set.empty());
}

TEST_CASE("connection_set: close and close_all tear down without reporting") {
    Fixture fx;
    ConnectionSet<FakeConn> set(&fx.host.table);
    FakeConn *a = fx.make(), *b = fx.make(), *c = fx.make();
    REQUIRE(set.report_opened(a, nullptr));
    REQUIRE(set.report_opened(b, nullptr));
    set.add(c); // still handshaking: the hub does not know it
    set.close(a);
    CHECK(set.size() == 2);
    set.lost(c, 0); // never reported to the hub: nothing to report
    set.close_all();
    CHECK(fx.host.closed.empty());
    CHECK(fx.teardowns == 3);
    CHECK(set.empty());
}

TEST_CASE("connection_set: a connection the hub refuses is torn down at once") {
    Fixture fx;
    fx.host.refuse = true;
    ConnectionSet<FakeConn> set(&fx.host.table);
    CHECK_FALSE(set.report_opened(fx.make(), "pid 2"));
    CHECK(fx.teardowns == 1);
    CHECK(set.empty());
    CHECK(fx.host.closed.empty());
}
