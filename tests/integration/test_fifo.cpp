// The FIFO transport with real processes: delivery to FIFO and socket
// subscribers (text and binary), many clients registering at once, clients
// and hubs that die (kill -9), a client with no hub, handshakes that never
// complete, and that nothing of the instance is left behind.
#include "harness.hpp"

#include "../../plugins/fifo/registration.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

using itest::Process;
using itest::Sandbox;

namespace {

namespace fs = std::filesystem;

// Names of client FIFOs (fifo.<pid>.<serial>.up/.down) in the instance dir.
std::vector<std::string> client_fifos(const Sandbox &sb) {
    std::vector<std::string> names;
    std::error_code ec;
    for (auto &e : fs::directory_iterator(sb.instance_dir(), ec)) {
        std::string name = e.path().filename().string();
        if (ipchub::fifo::classify(name) == ipchub::fifo::NameKind::client_fifo) names.push_back(name);
    }
    return names;
}

std::string binary_payload(size_t size) {
    std::string s(size, '\0');
    for (size_t i = 0; i < size; ++i) s[i] = char((i * 131 + i / 7) & 0xff); // NULs every 256 bytes and more
    s[0] = '\0';
    s[size / 2] = '\0';
    return s;
}

// A plugins.json like the build's, with `fifo_config` as the fifo plugin's config.
std::string config_with_fifo(const Sandbox &sb, const nlohmann::json &fifo_config) {
    nlohmann::json j = nlohmann::json::parse(itest::read_file(sb.env().at("IPCHUB_CONFIG")));
    for (auto &p : j["plugins"])
        if (p["name"] == "fifo") p["config"] = fifo_config;
    std::string path = sb.dir() + "/plugins.json";
    itest::write_file(path, j.dump(2));
    return path;
}

// Plays the first half of a client's handshake by hand (FIFOs made, .down
// open for reading, record written) for `pid`, and then does nothing more.
struct HalfRegistration {
    std::string up, down;
    int down_fd = -1;
    HalfRegistration(const Sandbox &sb, pid_t pid, uint32_t serial) {
        std::string base = ipchub::fifo::client_base(sb.instance_dir(), uint32_t(pid), serial);
        up = base + ".up";
        down = base + ".down";
        REQUIRE(::mkfifo(up.c_str(), 0600) == 0);
        REQUIRE(::mkfifo(down.c_str(), 0600) == 0);
        down_fd = ::open(down.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        REQUIRE(down_fd >= 0);
        int reg = ::open(ipchub::fifo::register_path(sb.instance_dir()).c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        REQUIRE(reg >= 0);
        unsigned char record[ipchub::fifo::kRecordSize];
        ipchub::fifo::Registration r;
        r.pid = uint32_t(pid);
        r.serial = serial;
        r.nonce = 42;
        ipchub::fifo::encode(r, record);
        CHECK(::write(reg, record, sizeof record) == ssize_t(sizeof record));
        ::close(reg);
    }
    ~HalfRegistration() {
        if (down_fd >= 0) ::close(down_fd);
        ::unlink(up.c_str());
        ::unlink(down.c_str());
    }
    bool names_exist() const { return ::access(up.c_str(), F_OK) == 0 || ::access(down.c_str(), F_OK) == 0; }
};

void stop_hub_and_check_clean(Sandbox &sb) {
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    std::vector<std::string> left = sb.leftovers();
    CHECK_MESSAGE(left.empty(), "left behind: " << itest::join(left));
}

} // namespace

TEST_CASE("fifo: publisher reaches fifo and socket subscribers, text and binary") {
    Sandbox sb("fifo-fanout");
    sb.start_hub();
    std::vector<Process> text_subs;
    text_subs.push_back(sb.subscriber("fifo", "news", {"--count", "2"}));
    text_subs.push_back(sb.subscriber("fifo", "news", {"--count", "2"}));
    text_subs.push_back(sb.subscriber("socket", "news", {"--count", "2"}));
    auto pub = sb.publisher("fifo", "news", {}, itest::with_stdin("Hello World\nsecond line\n"));
    CHECK(pub.wait() == 0);
    CHECK(pub.out() == "Published (3 subscribers)\nPublished (3 subscribers)\n");
    for (auto &s : text_subs) {
        CHECK(s.wait() == 0);
        CHECK(s.out() == "[news] Hello World\n[news] second line\n");
    }

    // Binary, NULs included, larger than a pipe and than the hub's read
    // buffer: partial writes and reads on both sides.
    for (size_t size : {size_t(1), size_t(5000), size_t(300000)}) {
        CAPTURE(size);
        std::string payload = binary_payload(size);
        std::string file = sb.dir() + "/payload.bin";
        itest::write_file(file, payload);
        auto fifo_raw = sb.subscriber("fifo", "bin", {"--raw", "--count", "1"});
        auto socket_raw = sb.subscriber("socket", "bin", {"--raw", "--count", "1"});
        auto bin_pub = sb.publisher("fifo", "bin", {"--file", file});
        CHECK(bin_pub.wait() == 0);
        CHECK(bin_pub.out() == "Published (2 subscribers)\n");
        CHECK(fifo_raw.wait() == 0);
        CHECK(socket_raw.wait() == 0);
        CHECK(fifo_raw.out() == payload);
        CHECK(socket_raw.out() == payload);
    }
    stop_hub_and_check_clean(sb);
}

TEST_CASE("fifo: socket publisher reaches fifo subscribers") {
    Sandbox sb("fifo-from-socket");
    sb.start_hub();
    std::string payload = binary_payload(70000) + std::string(3, '\0');
    std::string file = sb.dir() + "/payload.bin";
    itest::write_file(file, payload);
    auto text = sb.subscriber("fifo", "t", {"--count", "1"});
    auto raw = sb.subscriber("fifo", "b", {"--raw", "--count", "1"});
    auto pub = sb.publisher("socket", "t", {"--message", "from a socket"});
    CHECK(pub.wait() == 0);
    CHECK(pub.out() == "Published (1 subscriber)\n");
    auto bin_pub = sb.publisher("socket", "b", {"--file", file});
    CHECK(bin_pub.wait() == 0);
    CHECK(text.wait() == 0);
    CHECK(text.out() == "[t] from a socket\n");
    CHECK(raw.wait() == 0);
    CHECK(raw.out() == payload);
    stop_hub_and_check_clean(sb);
}

TEST_CASE("fifo: 20 clients register at once") {
    Sandbox sb("fifo-many");
    sb.start_hub();
    std::vector<Process> subs;
    for (int i = 0; i < 20; ++i)
        subs.push_back(sb.run({itest::bin("myipcsub"), "--backend", "fifo", "--channel", "crowd", "--count", "1"}));
    for (auto &s : subs) REQUIRE_MESSAGE(s.wait_err("Subscribed to", 10000), "stderr: " << s.err());
    auto pub = sb.publisher("fifo", "crowd", {"--message", "to all of you"});
    CHECK(pub.wait() == 0);
    CHECK(pub.out() == "Published (20 subscribers)\n");
    for (auto &s : subs) {
        CHECK(s.wait() == 0);
        CHECK(s.out() == "[crowd] to all of you\n");
    }
    CHECK(client_fifos(sb).empty()); // connected clients need no names
    stop_hub_and_check_clean(sb);
}

TEST_CASE("fifo: kill -9 of a subscriber while a publisher streams") {
    Sandbox sb("fifo-kill-sub");
    sb.start_hub();
    auto keep = sb.subscriber("fifo", "s");
    auto victim = sb.subscriber("fifo", "s");
    Process::Options o;
    o.keep_stdin_open = true;
    auto pub = sb.run({itest::bin("myipcpub"), "--backend", "fifo", "--channel", "s"}, o);
    std::string expected, lines;
    int next = 0;
    auto line = [&] {
        std::string l = std::to_string(++next);
        expected += "[s] " + l + "\n";
        return l + "\n";
    };
    for (int i = 0; i < 500; ++i) lines += line();
    pub.write_stdin(lines);
    REQUIRE(keep.wait_out("[s] 100\n"));
    victim.signal(SIGKILL);
    CHECK(victim.wait() == 128 + SIGKILL);
    // The hub notices at once (EOF on the victim's FIFO): the delivery count drops.
    bool noticed = itest::eventually(
        [&] {
            pub.write_stdin(line());
            return pub.out().find("Published (1 subscriber)\n") != std::string::npos;
        },
        3000);
    CHECK(noticed);
    CHECK(client_fifos(sb).empty());
    lines.clear();
    for (int i = 0; i < 500; ++i) lines += line();
    pub.write_stdin(lines + "end\n");
    expected += "[s] end\n";
    pub.close_stdin();
    CHECK(pub.wait() == 0);
    CHECK(pub.out().substr(pub.out().rfind("Published")) == "Published (1 subscriber)\n");
    REQUIRE(keep.wait_out("[s] end\n"));
    keep.signal(SIGTERM);
    CHECK(keep.wait() == 0);
    CHECK(keep.out() == expected); // every message, in order
    stop_hub_and_check_clean(sb);
}

TEST_CASE("fifo: a client with no hub fails at once with exit code 3") {
    Sandbox sb("fifo-nohub");
    SUBCASE("no runtime directory") {
        auto sub = sb.run({itest::bin("myipcsub"), "--backend", "fifo", "--channel", "x"});
        CHECK(sub.wait(5000) == 3);
        CHECK(sub.err().find("no hub is running for instance '" + sb.instance() + "'") != std::string::npos);
    }
    SUBCASE("a dead hub's registration FIFO, nobody reading it") {
        fs::create_directories(sb.instance_dir());
        std::string reg = ipchub::fifo::register_path(sb.instance_dir());
        REQUIRE(::mkfifo(reg.c_str(), 0600) == 0);
        auto pub = sb.run({itest::bin("myipcpub"), "--backend", "fifo", "--channel", "x", "--message", "m"});
        CHECK(pub.wait(5000) == 3);
        CHECK(pub.err().find("no hub is running for instance '" + sb.instance() + "'") != std::string::npos);
        CHECK(client_fifos(sb).empty()); // it made none
        ::unlink(reg.c_str());
        fs::remove(sb.instance_dir());
        fs::remove(sb.runtime_dir());
    }
    CHECK(sb.leftovers().empty());
}

TEST_CASE("fifo: SIGTERM of the hub leaves nothing behind") {
    Sandbox sb("fifo-sigterm");
    sb.start_hub();
    auto sub = sb.subscriber("fifo", "q");
    Process::Options o;
    o.keep_stdin_open = true;
    auto pub = sb.run({itest::bin("myipcpub"), "--backend", "fifo", "--channel", "q"}, o);
    pub.write_stdin("one\n");
    REQUIRE(sub.wait_out("[q] one\n"));
    HalfRegistration pending(sb, ::getpid(), 7); // registered, never completes
    REQUIRE(itest::eventually([&] {
        char b[8];
        return ::read(pending.down_fd, b, sizeof b) == 8; // the hub answered it
    }));
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    CHECK(sub.wait(5000) == 1); // told the hub is shutting down (or saw EOF)
    pub.close_stdin();
    CHECK(pub.wait(5000) >= 0);
    CHECK_FALSE(pending.names_exist());
    std::vector<std::string> left = sb.leftovers();
    CHECK_MESSAGE(left.empty(), "left behind: " << itest::join(left));
}

TEST_CASE("fifo: kill -9 of the hub ends blocked clients with an error, and the next hub sweeps") {
    Sandbox sb("fifo-kill-hub");
    sb.start_hub();
    auto sub = sb.subscriber("fifo", "k");
    Process::Options o;
    o.keep_stdin_open = true;
    // myipcpub does not ignore SIGPIPE: it survives only if the transport keeps
    // the SIGPIPE of a write to the dead hub's FIFO from being delivered.
    auto pub = sb.run({itest::bin("myipcpub"), "--backend", "fifo", "--channel", "k"}, o);
    pub.write_stdin("before\n");
    REQUIRE(sub.wait_out("[k] before\n"));
    sb.hub().signal(SIGKILL);
    CHECK(sb.hub().wait() == 128 + SIGKILL);
    int rc = sub.wait(5000);
    CHECK(rc != -1); // exited instead of hanging...
    CHECK(rc != 0);  // ...with an error
    CHECK(sub.err().find("the hub closed the connection") != std::string::npos);
    pub.write_stdin("after\n");
    CHECK(pub.wait(5000) == 1);
    CHECK(client_fifos(sb).empty());
    // A new hub takes the instance over; its sweep removes the old fifo.register.
    sb.start_hub();
    auto again = sb.subscriber("fifo", "k", {"--count", "1"});
    auto pub2 = sb.publisher("fifo", "k", {"--message", "again"});
    CHECK(pub2.out() == "Published (1 subscriber)\n");
    CHECK(again.wait() == 0);
    stop_hub_and_check_clean(sb);
}

TEST_CASE("fifo: a registration that never completes is dropped after the handshake timeout") {
    Sandbox sb("fifo-handshake-timeout");
    Process::Options o;
    o.env["IPCHUB_CONFIG"] = config_with_fifo(sb, {{"handshake_timeout_ms", 300}});
    sb.start_hub({}, o);
    HalfRegistration stuck(sb, ::getpid(), 1); // alive, but never opens .up
    CHECK(itest::eventually([&] { return !stuck.names_exist(); }, 5000));
    // The hub answered and then gave up: EOF on .down after the token.
    char b[16];
    CHECK(itest::eventually([&] { return ::read(stuck.down_fd, b, sizeof b) == 8; }, 1000));
    CHECK(itest::eventually([&] { return ::read(stuck.down_fd, b, sizeof b) == 0; }, 1000));
    // The hub still serves.
    auto sub = sb.subscriber("fifo", "h", {"--count", "1"});
    auto pub = sb.publisher("fifo", "h", {"--message", "still here"});
    CHECK(pub.out() == "Published (1 subscriber)\n");
    CHECK(sub.wait() == 0);
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    fs::remove(o.env["IPCHUB_CONFIG"]);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("fifo: a client that dies during the handshake is noticed through its pidfd") {
    Sandbox sb("fifo-handshake-death");
    sb.start_hub(); // default handshake timeout: 5 s
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::pause();
        ::_exit(0);
    }
    HalfRegistration dying(sb, child, 1);
    char b[16];
    REQUIRE(itest::eventually([&] { return ::read(dying.down_fd, b, sizeof b) == 8; }));
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    long long t0 = itest::now_ms();
    // Well before the 5 s handshake timeout: the pidfd, not the timer.
    CHECK(itest::eventually([&] { return !dying.names_exist(); }, 3000));
    CHECK(itest::now_ms() - t0 < 4500);

    // A registration whose process is already gone is dropped on arrival.
    pid_t gone = ::fork();
    REQUIRE(gone >= 0);
    if (gone == 0) ::_exit(0);
    ::waitpid(gone, nullptr, 0);
    HalfRegistration dead(sb, gone, 1);
    CHECK(itest::eventually([&] { return !dead.names_exist(); }, 3000));
    stop_hub_and_check_clean(sb);
}
