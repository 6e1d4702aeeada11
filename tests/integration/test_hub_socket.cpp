// The foundation over the socket transport: the seed scenario, binary
// payloads, clean shutdown on both signals, one hub per instance.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <signal.h>

using itest::Sandbox;

TEST_CASE("seed scenario: three subscribers, one publisher, Hello World") {
    Sandbox sb("seed");
    sb.start_hub();
    std::vector<itest::Process> subs;
    for (int i = 0; i < 3; ++i) subs.push_back(sb.subscriber("socket", "test", {"--count", "1"}));
    auto pub = sb.publisher("socket", "test", {}, itest::with_stdin("Hello World\n"));
    CHECK(pub.wait() == 0);
    CHECK(pub.out() == "Published (3 subscribers)\n");
    for (auto &s : subs) {
        CHECK(s.wait() == 0);
        CHECK(s.out() == "[test] Hello World\n");
    }
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    CHECK(sb.leftovers().empty());
}
