// Every publisher backend reaches subscribers on every backend at once,
// through one hub: payload sizes around every transport's limits, exact
// delivery counts, per-publisher order, and a 10,000-message fan-out.
#include "harness.hpp"

#include <ipchub/client.hpp>

#include <doctest/doctest.h>

#include <signal.h>

#include <memory>
#include <sstream>

using itest::Sandbox;

namespace {

// The backends a client program can connect to by itself (pipe clients are
// children of the hub and are tested in test_pipe.cpp).
const std::vector<std::string> kBackends = {"socket", "fifo", "mqueue", "shm"};

std::vector<std::string> hub_backends(const itest::Process &hub) {
    std::string out = hub.out();
    auto at = out.find("Backends available: ");
    std::vector<std::string> names;
    if (at == std::string::npos) return names;
    std::istringstream line(out.substr(at + 20, out.find('\n', at) - at - 20));
    std::string name;
    while (std::getline(line, name, ',')) {
        while (!name.empty() && name.front() == ' ') name.erase(0, 1);
        names.push_back(name);
    }
    return names;
}

std::unique_ptr<ipchub::Client> client(const Sandbox &sb, const std::string &backend) {
    return std::make_unique<ipchub::Client>(sb.client(backend, "matrix-" + backend));
}

std::vector<std::string> payloads() {
    std::string binary("\0bin\0ary\0\xff\x01", 12);
    auto pattern = [](size_t n) {
        std::string s(n, '\0');
        for (size_t i = 0; i < n; ++i) s[i] = char((i * 131 + n) % 251);
        return s;
    };
    return {"", "x", binary, pattern(8191), pattern(8192), pattern(8193), pattern(65536), pattern(1024 * 1024)};
}

// "m<i>", appended: GCC 12 -Wrestrict misfires on "m" + string&& at -O2 (bug 105329).
std::string numbered_message(int i) {
    std::string text = "m";
    text += std::to_string(i);
    return text;
}
} // namespace

TEST_CASE("cross-backend: every publisher backend reaches subscribers on every backend, byte-exact") {
    Sandbox sb("matrix");
    sb.start_hub();
    auto available = hub_backends(sb.hub());
    for (auto &b : kBackends) {
        CAPTURE(b);
        CHECK(std::find(available.begin(), available.end(), b) != available.end());
    }
    std::vector<std::unique_ptr<ipchub::Client>> subs;
    for (auto &b : kBackends) {
        subs.push_back(client(sb, b));
        subs.back()->subscribe("matrix");
    }
    const auto messages = payloads();
    for (auto &pub_backend : kBackends) {
        CAPTURE(pub_backend);
        auto pub = client(sb, pub_backend);
        for (auto &m : messages) CHECK(pub->publish("matrix", m) == kBackends.size());
        for (size_t s = 0; s < subs.size(); ++s) {
            CAPTURE(kBackends[s]);
            for (size_t i = 0; i < messages.size(); ++i) {
                CAPTURE(messages[i].size());
                auto got = subs[s]->receive(10000);
                REQUIRE(got);
                CHECK(got->channel == "matrix");
                CHECK(got->payload.size() == messages[i].size());
                CHECK(got->payload == messages[i]);
            }
        }
    }
    subs.clear();
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("cross-backend: fan-out of 10,000 messages to subscribers on every backend, in order") {
    Sandbox sb("fanout");
    sb.start_hub();
    std::vector<std::unique_ptr<ipchub::Client>> subs;
    for (auto &b : kBackends) {
        subs.push_back(client(sb, b));
        subs.back()->subscribe("fan");
    }
    constexpr int kMessages = 10000;
    for (auto &pub_backend : {std::string("socket"), std::string("shm")}) {
        CAPTURE(pub_backend);
        auto pub = client(sb, pub_backend);
        // Subscribers are read while publishing, or the bounded backlogs
        // would (rightly) pause this single-threaded publisher forever.
        std::vector<int> next(subs.size(), 0);
        auto drain_one = [&](size_t s, int timeout_ms) {
            return subs[s]->receive_each(
                [&](std::string_view, std::string_view payload, uint64_t) {
                    CHECK(payload == numbered_message(next[s]));
                    ++next[s];
                },
                timeout_ms);
        };
        auto drain = [&](int timeout_ms) {
            for (size_t s = 0; s < subs.size(); ++s) drain_one(s, timeout_ms);
        };
        for (int i = 0; i < kMessages; ++i) {
            pub->publish_nowait("fan", numbered_message(i));
            if (i % 500 == 499) {
                pub->flush();
                drain(0);
            }
        }
        CHECK(pub->publish("fan", numbered_message(kMessages)) == kBackends.size());
        for (size_t s = 0; s < subs.size(); ++s) {
            CAPTURE(kBackends[s]);
            long long deadline = itest::now_ms() + 30000;
            while (next[s] <= kMessages && itest::now_ms() < deadline) drain_one(s, 100);
            CHECK(next[s] == kMessages + 1);
        }
    }
    subs.clear();
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("cross-backend: an idle hub with clients of every backend does not poll") {
    Sandbox sb("idle");
    sb.start_hub({"--spawn", itest::bin("myipcsub") + " --backend pipe --channel idle"});
    std::vector<itest::Process> subs;
    for (auto &b : kBackends) subs.push_back(sb.subscriber(b, "idle"));
    REQUIRE(sb.hub().wait_err("Subscribed to [idle] via pipe", 10000));
    long before = itest::cpu_ticks(sb.hub().pid());
    itest::eventually([] { return false; }, 2000); // just wait 2 s
    long used = itest::cpu_ticks(sb.hub().pid()) - before;
    // One clock tick is 10 ms: a busy-polling hub would use ~200 in 2 s.
    CHECK(used <= 2);
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    for (auto &s : subs) CHECK(s.wait() == 1); // told the hub is gone
    CHECK(sb.leftovers().empty());
}
