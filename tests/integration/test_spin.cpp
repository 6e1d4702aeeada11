// The opt-in spin (hub.spin_us / myipchub --spin-us): traffic still flows
// over every backend, shm clients stop ringing the hub's doorbell while it
// spins, and once traffic stops the hub and its clients fall asleep again.
#include "harness.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <signal.h>

#include <fstream>

using itest::Sandbox;

namespace {

const std::vector<std::string> kBackends = {"socket", "fifo", "mqueue", "shm"};

// Publishes `n` acknowledged messages (each one a round trip through the hub)
// and returns how many write system calls this process made meanwhile.
long long writes_for_acked_publishes(ipchub::Client &client, int n) {
    const std::string payload(64, 'x');
    long long before = itest::write_syscalls();
    for (int i = 0; i < n; ++i) REQUIRE(client.publish("nobody-listens", payload) == 0);
    return itest::write_syscalls() - before;
}

} // namespace

TEST_CASE("spin: with --spin-us every backend still delivers, and an idle hub and shm client sleep again") {
    Sandbox sb("spin-all");
    sb.start_hub({"-v", "--spin-us", "2000", "--spawn", itest::bin("myipcsub") + " --backend pipe --channel spin"});
    CHECK(sb.hub().wait_err("spinning up to 2000 us after activity"));
    REQUIRE(sb.hub().wait_err("Subscribed to [spin] via pipe", 10000));
    std::vector<itest::Process> subs;
    for (auto &b : kBackends) subs.push_back(sb.subscriber(b, "spin"));
    for (auto &b : kBackends) {
        auto pub = sb.publisher(b, "spin", {}, itest::with_stdin("from " + b + "\n"));
        CHECK(pub.wait() == 0);
        CHECK(pub.out() == "Published (5 subscribers)\n");
    }
    for (auto &s : subs)
        CHECK(s.wait_out("[spin] from socket\n[spin] from fifo\n[spin] from mqueue\n[spin] from shm\n"));
    CHECK(sb.hub().wait_err("[spin] from shm"));

    // Quiet now: after 2 ms of spinning everyone sleeps. A hub or an shm
    // subscriber that kept polling would burn ~200 ticks in these 2 s.
    pid_t shm_sub = subs.back().pid();
    long hub_before = itest::cpu_ticks(sb.hub().pid()), sub_before = itest::cpu_ticks(shm_sub);
    itest::eventually([] { return false; }, 2000);
    CHECK(itest::cpu_ticks(sb.hub().pid()) - hub_before <= 2);
    CHECK(itest::cpu_ticks(shm_sub) - sub_before <= 2);

    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    for (auto &s : subs) CHECK(s.wait() == 1); // told the hub is gone
    CHECK(sb.leftovers().empty());
}

TEST_CASE("spin: a long spin ends: an idle hub and an idle shm subscriber that keeps calling receive sleep") {
    // myipcsub waits in receive(200 ms) calls, one after another: each call
    // may spin only for what is left of spin_us since the last message, or
    // an idle subscriber would spin for ever.
    Sandbox sb("spin-long");
    sb.start_hub({"--spin-us", "300000"});
    auto sub = sb.subscriber("shm", "long");
    auto pub = sb.publisher("shm", "long", {}, itest::with_stdin("once\n"));
    CHECK(pub.wait() == 0);
    CHECK(sub.wait_out("[long] once\n"));
    itest::eventually([] { return false; }, 1000); // the 0.3 s spin is over
    long hub_before = itest::cpu_ticks(sb.hub().pid()), sub_before = itest::cpu_ticks(sub.pid());
    itest::eventually([] { return false; }, 2000);
    CHECK(itest::cpu_ticks(sb.hub().pid()) - hub_before <= 3); // spinning: ~200
    CHECK(itest::cpu_ticks(sub.pid()) - sub_before <= 3);
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    CHECK(sub.wait() == 1);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("spin: while the hub spins an shm client publishes without a system call per message") {
    constexpr int kMessages = 2000;
    long long sleeping_hub_writes = 0, spinning_hub_writes = 0;
    {
        // The reference: a hub that sleeps between messages is rung once per message.
        Sandbox sb("spin-off");
        sb.start_hub();
        auto client = sb.client("shm");
        sleeping_hub_writes = writes_for_acked_publishes(client, kMessages);
        sb.hub().signal(SIGTERM);
        CHECK(sb.hub().wait() == 0);
        CHECK(sb.leftovers().empty());
    }
    {
        // A spin far longer than one round trip, even on a loaded machine.
        Sandbox sb("spin-on");
        sb.start_hub({"--spin-us", "200000"});
        auto client = sb.client("shm");
        spinning_hub_writes = writes_for_acked_publishes(client, kMessages);
        sb.hub().signal(SIGTERM);
        CHECK(sb.hub().wait() == 0);
        CHECK(sb.leftovers().empty());
    }
    INFO("write calls for " << kMessages << " messages: hub sleeping " << sleeping_hub_writes << ", hub spinning "
                            << spinning_hub_writes);
    CHECK(sleeping_hub_writes >= kMessages); // the doorbell, every time
    CHECK(spinning_hub_writes < kMessages / 20);
}

TEST_CASE("spin: hub.spin_us in plugins.json, and bad values are refused") {
    Sandbox sb("spin-config");
    std::ifstream in(std::string(IPCHUB_BUILD_ROOT) + "/etc/ipchub/plugins.json");
    nlohmann::json j = nlohmann::json::parse(in);
    j["hub"]["spin_us"] = 150;
    std::string path = sb.dir() + "/plugins.json";
    itest::write_file(path, j.dump(2));
    sb.start_hub({"--config", path});
    CHECK(sb.hub().wait_err("spinning up to 150 us after activity"));
    auto sub = sb.subscriber("shm", "cfg", {"--count", "1"});
    auto pub = sb.publisher("shm", "cfg", {}, itest::with_stdin("hello\n"));
    CHECK(pub.wait() == 0);
    CHECK(sub.wait() == 0);
    CHECK(sub.out() == "[cfg] hello\n");
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);

    auto too_long = sb.run({itest::bin("myipchub"), "--spin-us", "2000000"});
    CHECK(too_long.wait() == 2);
    CHECK(too_long.err().find("--spin-us") != std::string::npos);
    j["hub"]["spin_us"] = -5;
    itest::write_file(path, j.dump(2));
    auto negative = sb.run({itest::bin("myipchub"), "--config", path});
    CHECK(negative.wait() == 2);
    CHECK(negative.err().find("hub.spin_us: expected a whole number") != std::string::npos);
    CHECK(sb.leftovers().empty());
}
