// The shm transport with real processes: mixing with the socket backend,
// binary and larger-than-the-ring payloads, kill -9 of a subscriber and of
// the hub, the layout check, and nothing left in /dev/shm.
#include "harness.hpp"

#include "../../plugins/shm/registration.hpp"
#include "../../plugins/shm/segment.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

using itest::Sandbox;

namespace {

std::string binary_bytes(size_t n, unsigned seed) {
    std::mt19937 rng(seed);
    std::string s(n, '\0');
    for (auto &c : s) c = char(rng() & 0xff);
    if (n > 2) s[1] = '\0'; // NULs for sure
    return s;
}

// The shm segments a process has mapped (memfds: they show as
// "/memfd:ipchub.<instance>.shm.<pid>.<n> (deleted)").
size_t shm_mappings(pid_t pid, const std::string &instance) {
    std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
    std::string prefix = "/memfd:" + ipchub::shm::segment_prefix(instance), line;
    std::set<std::string> names;
    while (std::getline(maps, line)) {
        size_t at = line.find(prefix);
        if (at != std::string::npos) names.insert(line.substr(at));
    }
    return names.size();
}

// /dev/shm names that contain the instance.
std::vector<std::string> dev_shm_of(const std::string &instance) {
    std::vector<std::string> found;
    std::error_code ec;
    for (auto &e : std::filesystem::directory_iterator("/dev/shm", ec))
        if (e.path().filename().string().find(instance) != std::string::npos) found.push_back(e.path().string());
    return found;
}

std::string lines(int from, int to) {
    std::string s;
    for (int i = from; i < to; ++i) {
        s += 'm'; // appended: GCC 12 -Wrestrict misfires on "m" + string&& at -O2 (bug 105329)
        s += std::to_string(i);
        s += '\n';
    }
    return s;
}

std::string expected_out(const std::string &channel, int from, int to) {
    std::string s;
    for (int i = from; i < to; ++i) s += "[" + channel + "] m" + std::to_string(i) + "\n";
    return s;
}

std::string config_with_shm(const Sandbox &sb, const nlohmann::json &shm_config) {
    std::ifstream in(std::string(IPCHUB_BUILD_ROOT) + "/etc/ipchub/plugins.json");
    nlohmann::json j = nlohmann::json::parse(in);
    for (auto &p : j["plugins"])
        if (p["name"] == "shm") p["config"] = shm_config;
    std::string path = sb.dir() + "/plugins.json";
    itest::write_file(path, j.dump(2));
    return path;
}

} // namespace

TEST_CASE("shm: seed scenario over shm: three subscribers, one publisher") {
    Sandbox sb("shm-seed");
    sb.start_hub();
    std::vector<itest::Process> subs;
    for (int i = 0; i < 3; ++i) subs.push_back(sb.subscriber("shm", "test", {"--count", "1"}));
    auto pub = sb.publisher("shm", "test", {}, itest::with_stdin("Hello World\n"));
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

TEST_CASE("shm: publisher -> hub -> subscribers on shm and socket, binary and larger than the ring") {
    Sandbox sb("shm-mix");
    sb.start_hub();
    auto sub_shm = sb.subscriber("shm", "bin", {"--count", "3", "--raw"});
    auto sub_sock = sb.subscriber("socket", "bin", {"--count", "3", "--raw"});
    std::string small;
    for (int i = 0; i < 512; ++i) small += char(i & 0xff); // every byte value, NULs included
    std::string huge = binary_bytes(1024 * 1024, 3);        // the hub's limit: its frame exceeds the 1 MiB ring
    std::string from_socket = std::string("from a socket publisher\0end", 27);
    itest::write_file(sb.dir() + "/small.bin", small);
    itest::write_file(sb.dir() + "/huge.bin", huge);
    itest::write_file(sb.dir() + "/sock.bin", from_socket);
    auto p1 = sb.publisher("shm", "bin", {"--file", sb.dir() + "/small.bin"});
    auto p2 = sb.publisher("shm", "bin", {"--file", sb.dir() + "/huge.bin"});
    auto p3 = sb.publisher("socket", "bin", {"--file", sb.dir() + "/sock.bin"});
    for (auto *p : {&p1, &p2, &p3}) {
        CHECK(p->wait() == 0);
        CHECK(p->out() == "Published (2 subscribers)\n");
        CHECK(p->err() == "");
    }
    CHECK(sub_shm.wait() == 0);
    CHECK(sub_sock.wait() == 0);
    CHECK(sub_shm.out() == small + huge + from_socket);
    CHECK(sub_sock.out() == small + huge + from_socket);
    CHECK(dev_shm_of(sb.instance()).empty()); // names are unlinked as soon as they exist
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("shm: kill -9 of an shm subscriber mid-stream: the others carry on, its segment is reclaimed") {
    Sandbox sb("shm-killsub");
    itest::Process &hub = sb.start_hub();
    auto victim = sb.subscriber("shm", "s");
    auto keeper_shm = sb.subscriber("shm", "s", {"--count", "200"});
    auto keeper_sock = sb.subscriber("socket", "s", {"--count", "200"});
    itest::Process::Options o;
    o.keep_stdin_open = true;
    auto pub = sb.run({itest::bin("myipcpub"), "--backend", "shm", "--channel", "s"}, o);
    pub.write_stdin(lines(0, 100));
    REQUIRE(victim.wait_out("[s] m49\n", 10000));
    CHECK(shm_mappings(hub.pid(), sb.instance()) == 3); // victim, keeper, publisher
    victim.signal(SIGKILL);
    victim.wait();
    // Noticed at once (EOF on its registration socket); the hub unmaps it.
    CHECK(itest::eventually([&] { return shm_mappings(hub.pid(), sb.instance()) == 2; }, 1000));
    pub.write_stdin(lines(100, 200));
    pub.close_stdin();
    CHECK(pub.wait() == 0);
    std::string out = pub.out();
    CHECK(out.size() > 0);
    CHECK(out.substr(out.rfind("Published")) == "Published (2 subscribers)\n");
    CHECK(keeper_shm.wait() == 0);
    CHECK(keeper_sock.wait() == 0);
    CHECK(keeper_shm.out() == expected_out("s", 0, 200));
    CHECK(keeper_sock.out() == expected_out("s", 0, 200));
    CHECK(hub.running());
    hub.signal(SIGTERM);
    CHECK(hub.wait() == 0);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("shm: kill -9 of the hub: a blocked shm subscriber exits with a clear error within seconds") {
    Sandbox sb("shm-killhub");
    sb.start_hub();
    auto sub = sb.subscriber("shm", "k");
    long long t0 = itest::now_ms();
    sb.hub().signal(SIGKILL);
    sb.hub().wait();
    CHECK(sub.wait(5000) == 1);
    CHECK(itest::now_ms() - t0 < 5000);
    CHECK(sub.err().find("the hub closed the connection (shm)") != std::string::npos);
    // A new hub takes over the instance and sweeps; after it stops, nothing is left.
    sb.start_hub();
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("shm: after SIGTERM of the hub nothing of the instance remains in /dev/shm") {
    Sandbox sb("shm-term");
    sb.start_hub();
    std::vector<itest::Process> subs;
    for (int i = 0; i < 5; ++i) subs.push_back(sb.subscriber("shm", "t"));
    CHECK(shm_mappings(sb.hub().pid(), sb.instance()) == 5);
    CHECK(dev_shm_of(sb.instance()).empty());
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    for (auto &s : subs) {
        CHECK(s.wait(5000) == 1); // told the hub is going away
        CHECK(s.err().find("the hub closed the connection") != std::string::npos);
    }
    CHECK(dev_shm_of(sb.instance()).empty());
    CHECK(sb.leftovers().empty());
}

TEST_CASE("shm: ring_bytes from plugins.json: 4 KiB rings carry a 1 MiB message, a bad size is refused") {
    Sandbox sb("shm-ringsize");
    itest::Process::Options small;
    small.env["IPCHUB_CONFIG"] = config_with_shm(sb, {{"ring_bytes", 4096}});
    sb.start_hub({"-v"}, small);
    CHECK(sb.hub().wait_err("rings of 4096 bytes"));
    auto sub = sb.subscriber("shm", "big", {"--count", "1", "--raw"});
    std::string huge = binary_bytes(1024 * 1024, 9);
    itest::write_file(sb.dir() + "/huge.bin", huge);
    auto pub = sb.publisher("shm", "big", {"--file", sb.dir() + "/huge.bin"});
    CHECK(pub.wait() == 0);
    CHECK(sub.wait() == 0);
    CHECK(sub.out() == huge);
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);

    itest::Process::Options bad;
    bad.env["IPCHUB_CONFIG"] = config_with_shm(sb, {{"ring_bytes", 5000}});
    sb.start_hub({}, bad);
    CHECK(sb.hub().wait_err("ring_bytes must be a power of two"));
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("shm: a client of another layout version is refused with a clear error") {
    Sandbox sb("shm-layout");
    sb.start_hub();
    int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string path = sb.instance_dir() + "/" + ipchub::shm::kRegistrationSocket;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
    ipchub::shm::ClientHello hello{ipchub::shm::kHelloMagic, ipchub::shm::kLayoutVersion + 1000, uint32_t(::getpid()), 0};
    REQUIRE(::send(fd, &hello, sizeof hello, MSG_NOSIGNAL) == ssize_t(sizeof hello));
    ipchub::shm::HubReply reply{};
    ssize_t n = ::recv(fd, &reply, sizeof reply, 0);
    ::close(fd);
    REQUIRE(n == ssize_t(sizeof reply));
    CHECK(reply.status == -EPROTO);
    reply.text[sizeof reply.text - 1] = '\0';
    CHECK(std::string(reply.text).find("layout version " + std::to_string(ipchub::shm::kLayoutVersion + 1000)) !=
          std::string::npos);
    // The hub carries on serving well-built clients.
    auto sub = sb.subscriber("shm", "ok", {"--count", "1"});
    auto pub = sb.publisher("shm", "ok", {"--message", "still here"});
    CHECK(pub.wait() == 0);
    CHECK(sub.wait() == 0);
    CHECK(sub.out() == "[ok] still here\n");
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    CHECK(sb.leftovers().empty());
}
