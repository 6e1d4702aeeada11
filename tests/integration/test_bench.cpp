// myipcbench in a tiny configuration: every available backend, both modes,
// two sizes, few messages. Correctness only (exit status, zero loss,
// well-formed JSON, nothing left behind), never speed.
#include "harness.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <regex>
#include <set>

using itest::Sandbox;
using json = nlohmann::json;

namespace {

// Backends whose plugin is built (the benchmark must measure each of them).
std::set<std::string> built_backends() {
    std::set<std::string> names;
    std::error_code ec;
    for (auto &e : std::filesystem::directory_iterator(std::string(IPCHUB_BUILD_ROOT) + "/lib/ipchub/plugins", ec)) {
        std::string f = e.path().filename().string();
        if (f.rfind("libipchub-", 0) == 0 && f.size() > 13 && f.substr(f.size() - 3) == ".so")
            names.insert(f.substr(10, f.size() - 13));
    }
    return names;
}

json read_json(const std::string &path) {
    json j = json::parse(itest::read_file(path), nullptr, false);
    REQUIRE_MESSAGE(!j.is_discarded(), "not JSON: " << itest::read_file(path));
    return j;
}

} // namespace

TEST_CASE("bench: tiny run over every backend in both modes is lossless, well-formed and clean") {
    Sandbox sb("bench");
    std::string json_path = sb.dir() + "/bench.json", csv_path = sb.dir() + "/bench.csv";
    auto p = sb.run({itest::bin("myipcbench"), "--messages", "200", "--pings", "20", "--size", "64,1024", "--json",
                     json_path, "--csv", csv_path});
    int rc = p.wait(60000);
    INFO("stdout:\n" << p.out() << "\nstderr:\n" << p.err());
    REQUIRE(rc == 0);

    // The seed's table and the recommendation, on stdout.
    CHECK(std::regex_search(p.out(), std::regex("(^|\n)Mechanism +Throughput +Latency \\(avg\\)")));
    CHECK(p.out().find("\nRecommendation\n") != std::string::npos);
    CHECK(p.err().find('\r') == std::string::npos); // no progress line when stderr is not a terminal

    json j = read_json(json_path);
    CHECK(j["tool"] == "myipcbench");
    CHECK(j["failed"] == 0);
    REQUIRE(j["runs"].is_array());
    std::set<std::string> measured_raw, measured_hub;
    for (auto &r : j["runs"]) {
        INFO(r.dump());
        for (const char *field : {"mode", "mechanism", "publisher", "subscriber", "status", "size", "messages",
                                  "msgs_per_s", "mb_per_s", "latency_us", "lost", "duplicated", "out_of_order", "corrupt"})
            CHECK(r.contains(field));
        if (r["status"] == "skipped") continue;
        CHECK(r["status"] == "ok");
        CHECK(r["lost"] == 0);
        CHECK(r["duplicated"] == 0);
        CHECK(r["out_of_order"] == 0);
        CHECK(r["corrupt"] == 0);
        CHECK(r["delivered"] == 200 * r["subscribers"].get<int>());
        CHECK(r["mb_per_s"].get<double>() > 0);
        CHECK(r["latency_us"]["samples"] == 20);
        CHECK(r["latency_us"]["p50"].get<double>() <= r["latency_us"]["p99"].get<double>());
        CHECK(r["latency_us"]["p99"].get<double>() <= r["latency_us"]["max"].get<double>());
        (r["mode"] == "raw" ? measured_raw : measured_hub).insert(r["publisher"].get<std::string>() + "/" +
                                                                  std::to_string(r["size"].get<int>()));
    }
    // Every built backend measured at both sizes: through the hub always, raw
    // unless the transport only serves hub-spawned children (pipe).
    for (auto &b : built_backends()) {
        for (const char *size : {"64", "1024"}) {
            CHECK_MESSAGE(measured_hub.count(b + "/" + size), b << " hub run at " << size);
            if (b != "pipe") CHECK_MESSAGE(measured_raw.count(b + "/" + size), b << " raw run at " << size);
        }
    }
    std::string csv = itest::read_file(csv_path);
    CHECK(csv.rfind("mode,mechanism,", 0) == 0);
    CHECK(std::count(csv.begin(), csv.end(), '\n') == long(j["runs"].size()) + 1);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("bench: a run that cannot be measured is FAILED, shows no speed, exits 1") {
    Sandbox sb("bench-fail");
    std::string json_path = sb.dir() + "/bench.json";
    // /bin/true is no hub: the hub-mode run cannot start.
    auto p = sb.run({itest::bin("myipcbench"), "--mode", "hub", "--backends", "socket", "--pairs", "none", "--messages",
                     "10", "--pings", "2", "--hub", "/bin/true", "--json", json_path});
    int rc = p.wait(30000);
    INFO("stdout:\n" << p.out() << "\nstderr:\n" << p.err());
    CHECK(rc == 1);
    CHECK(p.out().find("FAILED") != std::string::npos);
    json j = read_json(json_path);
    REQUIRE(j["runs"].size() == 1);
    CHECK(j["runs"][0]["status"] == "FAILED");
    CHECK(j["runs"][0]["mb_per_s"] == 0);
    CHECK(j["failed"] == 1);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("bench: an unknown backend is a usage error") {
    Sandbox sb("bench-usage");
    auto p = sb.run({itest::bin("myipcbench"), "--backends", "carrier-pigeon"});
    CHECK(p.wait(10000) == 2);
    CHECK(p.err().find("unknown backend 'carrier-pigeon'") != std::string::npos);
    auto q = sb.run({itest::bin("myipcbench"), "--size", "8"});
    CHECK(q.wait(10000) == 2);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("bench: --spin-us measures through a spinning hub, losslessly; not with --use-running-hub") {
    Sandbox sb("bench-spin");
    std::string json_path = sb.dir() + "/bench.json";
    auto p = sb.run({itest::bin("myipcbench"), "--mode", "hub", "--backends", "shm,socket", "--messages", "300",
                     "--pings", "20", "--spin-us", "100", "--json", json_path});
    int rc = p.wait(60000);
    INFO("stdout:\n" << p.out() << "\nstderr:\n" << p.err());
    REQUIRE(rc == 0);
    json j = read_json(json_path);
    CHECK(j["settings"]["hub_spin_us"] == 100);
    CHECK(j["failed"] == 0);
    for (auto &r : j["runs"]) {
        INFO(r.dump());
        CHECK(r["status"] == "ok");
        CHECK(r["lost"] == 0); // includes the warm-up stream
        CHECK(r["duplicated"] == 0);
        CHECK(r["delivered"] == 300 * r["subscribers"].get<int>());
    }
    auto bad = sb.run({itest::bin("myipcbench"), "--use-running-hub", "--spin-us", "10"});
    CHECK(bad.wait(10000) == 2);
    CHECK(bad.err().find("--spin-us") != std::string::npos);
    CHECK(sb.leftovers().empty());
}
