// Issue 11 item 6: a hub out of file descriptors must neither spin nor flood
// its log. The hub runs with RLIMIT_NOFILE 64 (soft and hard, so raising the
// soft limit at start-up cannot help) and gets more connections than it has
// descriptors, on each listener of the kit (socket, shm registration).
// Before the fix its accept loop returned on EMFILE with the client still
// pending, was called again at once, and logged a warning each time: 100 %
// CPU and hundreds of MB of log in seconds.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <sstream>

using itest::Sandbox;

namespace {

constexpr int kHubFileLimit = 64;
constexpr int kConnections = 150; // well over what the hub can hold

int connect_raw(const std::string &path, int type) {
    int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
    return fd;
}

// The hub ended this connection (EOF or reset), as opposed to "still open".
bool ended_by_hub(int fd) {
    char byte;
    ssize_t n = ::recv(fd, &byte, 1, MSG_DONTWAIT | MSG_PEEK);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

size_t lines(const std::string &text) { return size_t(std::count(text.begin(), text.end(), '\n')); }

void out_of_descriptors(const std::string &backend, const std::string &socket_file, int type) {
    Sandbox sb("fd-exhaustion-" + backend);
    itest::Process hub = sb.run({"/usr/bin/prlimit", "--nofile=" + std::to_string(kHubFileLimit) + ":" +
                                                std::to_string(kHubFileLimit),
                                 itest::bin("myipchub")});
    REQUIRE(hub.wait_out("Listening for connections...", 10000));
    size_t lines_at_start = lines(hub.err());

    std::vector<int> fds;
    for (int i = 0; i < kConnections; ++i) fds.push_back(connect_raw(sb.instance_dir() + "/" + socket_file, type));
    // The clients the hub cannot hold are told so (their connection ends)
    // instead of waiting for ever.
    CHECK(itest::eventually([&] { return std::any_of(fds.begin(), fds.end(), ended_by_hub); }, 10000));

    // Over 3 s a spinning hub burns up to 300 ticks (less on a busy machine);
    // an idle one next to none.
    long before = itest::cpu_ticks(hub.pid());
    itest::eventually([] { return false; }, 3000);
    long used = itest::cpu_ticks(hub.pid()) - before;
    MESSAGE(backend << ": hub CPU over 3 s out of descriptors: " << used << " ticks");
    CHECK(used <= 30); // after the fix 0-2; before it 55-63 on a loaded 2-core machine
    size_t logged = lines(hub.err()) - lines_at_start;
    MESSAGE(backend << ": hub log lines out of descriptors: " << logged);
    CHECK(logged <= 20);
    CHECK(hub.running());

    // Once the crowd leaves, the hub serves a client again.
    for (int fd : fds) ::close(fd);
    fds.clear();
    bool answered = itest::eventually(
        [&] {
            try {
                ipchub::Client client = sb.client(backend, "after-the-crowd");
                return client.publish("fd-exhaustion", "still here") == 0; // nobody subscribed
            } catch (const std::exception &) {
                return false; // the hub has not closed the others yet
            }
        },
        15000);
    CHECK(answered);

    hub.signal(SIGTERM);
    CHECK(hub.wait() == 0);
    CHECK(sb.leftovers().empty());
}

} // namespace

TEST_CASE("fd exhaustion: socket: more clients than descriptors cost no CPU and a bounded log, then the hub serves again") {
    out_of_descriptors("socket", "hub.sock", SOCK_STREAM);
}

TEST_CASE("fd exhaustion: shm: more registrations than descriptors cost no CPU and a bounded log, then the hub serves again") {
    out_of_descriptors("shm", "shm.sock", SOCK_SEQPACKET);
}

TEST_CASE("fd exhaustion: the hub raises its soft open file limit to the hard one and holds more clients") {
    Sandbox sb("fd-limit-raise");
    itest::Process hub =
        sb.run({"/usr/bin/prlimit", "--nofile=" + std::to_string(kHubFileLimit) + ":1024", itest::bin("myipchub")});
    REQUIRE(hub.wait_out("Listening for connections...", 10000));
    std::string limits = itest::read_file("/proc/" + std::to_string(hub.pid()) + "/limits");
    auto row = limits.find("Max open files");
    REQUIRE(row != std::string::npos);
    std::istringstream fields(limits.substr(row + std::strlen("Max open files")));
    long soft = 0, hard = 0;
    fields >> soft >> hard;
    CHECK(soft == 1024);
    CHECK(hard == 1024);

    // More clients than the limit it was started with: all of them stay.
    std::vector<int> fds;
    for (int i = 0; i < kConnections; ++i) fds.push_back(connect_raw(sb.instance_dir() + "/hub.sock", SOCK_STREAM));
    itest::eventually([] { return false; }, 500);
    CHECK(std::none_of(fds.begin(), fds.end(), ended_by_hub));
    for (int fd : fds) ::close(fd);

    hub.signal(SIGTERM);
    CHECK(hub.wait() == 0);
    CHECK(sb.leftovers().empty());
}
