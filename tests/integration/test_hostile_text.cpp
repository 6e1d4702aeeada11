// Issue 11 item 12: text a client chooses (its HELLO name, a channel name in
// an error) must never forge hub log lines or reach a terminal as escape
// sequences.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <signal.h>

#include <sstream>

using itest::Sandbox;

TEST_CASE("log injection: a client name with a newline and an escape sequence stays on its own escaped line") {
    Sandbox sb("log-inject");
    sb.start_hub({"--verbose"});
    const std::string forged = "FORGED-LINE";
    std::string name = "evil\nmyipchub[1]: error: \x1b[31m" + forged + "\r\x9b" + "2J";
    {
        auto evil = sb.client("socket", name);
        evil.stats(); // a round trip: the HELLO was handled and logged
    }
    // The hub is alive and answers someone else.
    auto other = sb.client("socket", "other");
    CHECK(other.stats().find("\"connections\"") != std::string::npos);
    CHECK(sb.hub().wait_err("says hello"));

    std::string log = sb.hub().err();
    CHECK(log.find('\x1b') == std::string::npos);
    CHECK(log.find('\r') == std::string::npos);
    CHECK(log.find('\x9b') == std::string::npos);
    // The forged text appears, escaped, only on the hub's own "says hello" line.
    std::istringstream lines(log);
    int lines_with_name = 0;
    for (std::string line; std::getline(lines, line);) {
        if (line.find(forged) == std::string::npos) continue;
        ++lines_with_name;
        CHECK_MESSAGE(line.find("says hello") != std::string::npos, "forged line: " << line);
        CHECK(line.find("evil\\x0amyipchub[1]: error: \\x1b[31m" + forged + "\\x0d\\x9b2J") != std::string::npos);
    }
    CHECK(lines_with_name == 1);

    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    CHECK(sb.leftovers().empty());
}
