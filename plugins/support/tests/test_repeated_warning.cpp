#include "repeated_warning.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ipchub::plugin;

namespace {

struct LogHost {
    ipchub_host table{};
    std::vector<std::string> lines;
    LogHost() {
        table.ctx = this;
        table.log = [](const ipchub_host *h, int, const char *message) {
            static_cast<LogHost *>(h->ctx)->lines.push_back(message);
        };
    }
};

} // namespace

TEST_CASE("repeated warning: a flood is one line per interval, and the next line counts what was not said") {
    LogHost host;
    RepeatedWarning warning(60'000); // no second line can be due during this test
    for (int i = 0; i < 100'000; ++i) warning.report(&host.table, IPCHUB_LOG_WARN, "out of file descriptors");
    REQUIRE(host.lines.size() == 1);
    CHECK(host.lines[0] == "out of file descriptors");
    CHECK(warning.total() == 100'000);

    warning.settle(&host.table, IPCHUB_LOG_WARN, "clients refused");
    REQUIRE(host.lines.size() == 2);
    CHECK(host.lines[1] == "clients refused (99999 times since the last such line)");
    warning.settle(&host.table, IPCHUB_LOG_WARN, "clients refused"); // nothing more to say
    CHECK(host.lines.size() == 2);

    warning.report(&host.table, IPCHUB_LOG_WARN, "out of file descriptors"); // a new burst is said at once
    CHECK(host.lines.size() == 3);
}

TEST_CASE("repeated warning: once the interval passed, the next occurrence is logged with the count") {
    LogHost host;
    RepeatedWarning warning(0); // every occurrence is due
    warning.report(&host.table, IPCHUB_LOG_WARN, "w");
    warning.report(&host.table, IPCHUB_LOG_WARN, "w");
    CHECK(host.lines == std::vector<std::string>{"w", "w"});
}
