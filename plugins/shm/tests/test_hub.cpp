// The hub half's registration handshake and teardown, driven through the
// real registration socket by a fake host (no hub process): every way a
// client ends releases all it held (descriptors, watches) and is reported
// to the host exactly when the host knew it, exactly once.
#include "hub.hpp"
#include "registration.hpp"
#include "segment.hpp"
#include "doorbell.hpp"

#include <doctest/doctest.h>

#include <dirent.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>
#include <vector>

using namespace ipchub::shm;

namespace {

int open_fds() {
    int n = 0;
    DIR *d = ::opendir("/proc/self/fd");
    while (dirent *e = ::readdir(d)) n += e->d_name[0] != '.';
    ::closedir(d);
    return n;
}

// A host with just enough of the hub: watches polled by pump(), connections
// counted.
struct FakeHost {
    struct Watch {
        ipchub_fd_callback cb;
        void *user;
    };
    struct Timer {
        ipchub_callback cb;
        void *user;
        uint32_t delay_ms;
    };
    ipchub_host host{};
    std::map<int, Watch> watches;
    std::map<int64_t, Timer> timers; // pending one-shot timers; fire_timers() runs them
    int64_t next_timer = 0;
    size_t received = 0;               // bytes handed to conn_received
    std::function<void()> on_received; // runs after each conn_received (a racing client)
    void *last_plugin_conn = nullptr;  // the plugin's handle of the last client opened
    int opened = 0;
    std::vector<int> closed; // reasons, in order
    bool refuse = false;     // conn_opened returns NULL (a hub shutting down)
    std::vector<std::string> log;

    FakeHost() {
        host.abi_version = IPCHUB_ABI_VERSION;
        host.struct_size = sizeof host;
        host.ctx = this;
        host.log = [](const ipchub_host *h, int, const char *m) { self(h)->log.emplace_back(m); };
        host.watch_fd = [](const ipchub_host *h, int fd, uint32_t, ipchub_fd_callback cb, void *user) {
            self(h)->watches[fd] = {cb, user};
            return 0;
        };
        host.unwatch_fd = [](const ipchub_host *h, int fd) { return self(h)->watches.erase(fd) ? 0 : -ENOENT; };
        host.conn_opened = [](const ipchub_host *h, void *plugin_conn, const char *) -> void * {
            FakeHost *f = self(h);
            if (f->refuse) return nullptr;
            f->last_plugin_conn = plugin_conn;
            return reinterpret_cast<void *>(uintptr_t(++f->opened));
        };
        host.add_timer = [](const ipchub_host *h, uint32_t delay_ms, int, ipchub_callback cb, void *user) -> int64_t {
            FakeHost *f = self(h);
            f->timers[++f->next_timer] = {cb, user, delay_ms};
            return f->next_timer;
        };
        host.cancel_timer = [](const ipchub_host *h, int64_t id) { self(h)->timers.erase(id); };
        host.conn_received = [](const ipchub_host *h, void *, const void *, size_t len) {
            FakeHost *f = self(h);
            f->received += len;
            if (f->on_received) f->on_received();
        };
        host.conn_writable = [](const ipchub_host *, void *) {};
        host.conn_closed = [](const ipchub_host *h, void *, int reason) { self(h)->closed.push_back(reason); };
    }
    static FakeHost *self(const ipchub_host *h) { return static_cast<FakeHost *>(h->ctx); }

    // As if every pending timer's time had come.
    void fire_timers() {
        auto due = timers;
        timers.clear();
        for (auto &[id, t] : due) t.cb(t.user);
    }

    // Runs the callbacks of ready descriptors (level-triggered) until a
    // round finds none.
    void pump() {
        for (int round = 0; round < 100; ++round) {
            std::vector<pollfd> fds;
            for (auto &[fd, w] : watches) fds.push_back({fd, POLLIN, 0});
            if (::poll(fds.data(), fds.size(), 50) <= 0) return;
            for (pollfd &p : fds)
                if (p.revents && watches.count(p.fd)) {
                    Watch w = watches[p.fd];
                    w.cb(w.user, p.fd, IPCHUB_EV_READ);
                }
        }
    }
};

// A hub half listening in a fresh runtime directory.
struct HubFixture {
    FakeHost fake;
    std::string dir;
    void *state = nullptr;
    int listen_watches = 0;

    explicit HubFixture(const char *config = "{\"ring_bytes\": 4096}") {
        char tmpl[] = "/tmp/shm-hub-test.XXXXXX";
        REQUIRE(::mkdtemp(tmpl));
        dir = tmpl;
        ipchub_hub_params params{};
        params.abi_version = IPCHUB_ABI_VERSION;
        params.struct_size = sizeof params;
        std::string instance = "shmhubtest-" + std::to_string(::getpid());
        params.instance = instance.c_str();
        params.runtime_dir = dir.c_str();
        params.config_json = config;
        params.file_mode = 0600;
        char err[256] = "";
        REQUIRE(hub_init(&fake.host, &params, &state, err, sizeof err) == 0);
        REQUIRE(hub_start(state, err, sizeof err) == 0);
        listen_watches = int(fake.watches.size());
    }
    ~HubFixture() {
        if (state) hub_cleanup(state);
        ::rmdir(dir.c_str());
    }

    int connect() {
        int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::string path = registration_path(dir);
        std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
        REQUIRE(::connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
        fake.pump();
        return fd;
    }
    bool only_listening() const { return int(fake.watches.size()) == listen_watches; }
};

// Reads the hub's answer; its descriptors are closed at once. Returns the
// status, or 1 when the socket was closed without one.
int read_reply(int fd, HubReply &reply, int *nfds = nullptr) {
    int fds[2];
    int n = 0;
    ssize_t len = recv_with_fds(fd, &reply, sizeof reply, fds, 2, &n, 0);
    for (int i = 0; i < n; ++i) ::close(fds[i]);
    if (nfds) *nfds = n;
    return len <= 0 ? 1 : reply.status;
}

bool peer_closed(int fd) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) != 1) return false;
    char byte;
    return ::recv(fd, &byte, 1, MSG_DONTWAIT) == 0;
}

// Says hello, lets the hub answer, reads the answer (see read_reply).
int hello(HubFixture &hub, int fd, HubReply &reply, int *nfds = nullptr, uint32_t layout = kLayoutVersion) {
    ClientHello hello{kHelloMagic, layout, uint32_t(::getpid()), 0};
    REQUIRE(send_with_fds(fd, &hello, sizeof hello, nullptr, 0) == 0);
    hub.fake.pump();
    return read_reply(fd, reply, nfds);
}

// Declared before the HubFixture, so checked after the hub half is gone.
struct NoDescriptorLeft {
    int before = open_fds();
    ~NoDescriptorLeft() { CHECK(open_fds() == before); }
};

// The client is gone from the hub half and the host never heard of it.
void check_released_unreported(const HubFixture &hub) {
    CHECK(hub.only_listening());
    CHECK(hub.fake.closed.empty());
}

} // namespace

TEST_CASE("hub: a client of another layout is refused with the reason, released, never reported") {
    NoDescriptorLeft no_leak;
    HubFixture hub;
    int fd = hub.connect();
    HubReply reply{};
    CHECK(hello(hub, fd, reply, nullptr, kLayoutVersion + 1) == -EPROTO);
    CHECK(std::string(reply.text).find("layout version") != std::string::npos);
    CHECK(peer_closed(fd));
    CHECK(hub.fake.opened == 0);
    check_released_unreported(hub);
    ::close(fd);
}

TEST_CASE("hub: a client that goes away before its hello is forgotten") {
    NoDescriptorLeft no_leak;
    HubFixture hub;
    int fd = hub.connect();
    CHECK_FALSE(hub.only_listening()); // its socket is watched for the hello
    ::close(fd);
    hub.fake.pump();
    CHECK(hub.fake.opened == 0);
    check_released_unreported(hub);
}

TEST_CASE("hub: a registered client that dies is reported once (ECONNRESET), then released") {
    NoDescriptorLeft no_leak;
    HubFixture hub;
    int fd = hub.connect();
    HubReply reply{};
    int nfds = 0;
    CHECK(hello(hub, fd, reply, &nfds) == 0);
    CHECK(nfds == 2);
    CHECK(reply.ring_bytes == 4096);
    CHECK(hub.fake.opened == 1);
    CHECK(hub.fake.watches.size() == size_t(hub.listen_watches + 2)); // liveness socket and doorbell
    ::close(fd); // without client_close: as if killed
    hub.fake.pump();
    CHECK(hub.fake.closed == std::vector<int>{ECONNRESET});
    CHECK(hub.only_listening());
    hub.fake.pump(); // nothing more to report
    CHECK(hub.fake.closed.size() == 1);
}

TEST_CASE("hub: a client the host refuses (shutting down) is released, never reported") {
    NoDescriptorLeft no_leak;
    HubFixture hub;
    hub.fake.refuse = true;
    int fd = hub.connect();
    HubReply reply{};
    CHECK(hello(hub, fd, reply) == 0); // sent before the host was asked
    CHECK(peer_closed(fd));
    check_released_unreported(hub);
    ::close(fd);
}

TEST_CASE("hub: hub_stop closes clients still in their handshake; cleanup tells registered ones") {
    NoDescriptorLeft no_leak;
    HubFixture hub;
    int registered = hub.connect();
    HubReply reply{};
    REQUIRE(hello(hub, registered, reply) == 0);
    int waiting = hub.connect();
    hub_stop(hub.state);
    CHECK(peer_closed(waiting));
    CHECK(hub.fake.watches.size() == 2); // the registered client's socket and doorbell
    hub_cleanup(hub.state);
    hub.state = nullptr;
    CHECK(peer_closed(registered));
    CHECK(hub.fake.watches.empty());
    CHECK(hub.fake.closed.empty()); // the hub closed them: nothing to report
    ::close(waiting);
    ::close(registered);
}

TEST_CASE("hub: hub_init refuses a config key the transport does not know, creating nothing") {
    FakeHost fake;
    ipchub_hub_params params{};
    params.abi_version = IPCHUB_ABI_VERSION;
    params.struct_size = sizeof params;
    params.instance = "t";
    params.runtime_dir = "/nonexistent";
    params.config_json = "{\"bogus\": 1}";
    params.file_mode = 0600;
    void *state = nullptr;
    char err[256] = "";
    CHECK(hub_init(&fake.host, &params, &state, err, sizeof err) == -EINVAL);
    CHECK(state == nullptr);
    CHECK(std::string(err).find("\"bogus\"") != std::string::npos);
}

namespace {

// A registered client as a hostile one would hold it: the segment mapped
// (its own views of both rings) and the doorbell, so the test can write and
// scribble where a client can.
struct MappedClient {
    int sock = -1;
    int doorbell = -1;
    Segment seg;
    MappedClient(HubFixture &hub) {
        sock = hub.connect();
        ClientHello hello{kHelloMagic, kLayoutVersion, uint32_t(::getpid()), 0};
        REQUIRE(send_with_fds(sock, &hello, sizeof hello, nullptr, 0) == 0);
        hub.fake.pump();
        HubReply reply{};
        int fds[2] = {-1, -1};
        int n = 0;
        REQUIRE(recv_with_fds(sock, &reply, sizeof reply, fds, 2, &n, 0) > 0);
        REQUIRE(n == 2);
        std::string err;
        REQUIRE(map_segment(fds[0], seg, err) == 0);
        ::close(fds[0]);
        doorbell = fds[1];
    }
    ~MappedClient() {
        if (sock >= 0) ::close(sock);
        ::close(doorbell);
        seg.unmap();
    }
    void write_record(size_t n) { // without ringing: the hub finds it when it next looks
        std::string bytes(n, 'x');
        iovec iov{bytes.data(), n};
        REQUIRE(seg.to_hub.try_write(&iov, 1) == int64_t(n));
    }
    void hang_up() {
        ::close(sock);
        sock = -1;
    }
};

size_t log_lines_with(const FakeHost &fake, const std::string &needle) {
    size_t n = 0;
    for (auto &line : fake.log) n += line.find(needle) != std::string::npos;
    return n;
}

} // namespace

TEST_CASE("hub: a connection that never says hello is closed when its handshake times out") {
    NoDescriptorLeft no_leak;
    HubFixture hub;
    int fd = hub.connect();
    REQUIRE(hub.fake.timers.size() == 1);
    CHECK(hub.fake.timers.begin()->second.delay_ms == 5000); // the default
    hub.fake.fire_timers();
    CHECK(peer_closed(fd));
    check_released_unreported(hub);
    CHECK(log_lines_with(hub.fake, "no hello within 5000 ms (config handshake_timeout_ms)") == 1);
    ::close(fd);
}

TEST_CASE("hub: a client that says hello in time has its handshake timer cancelled") {
    NoDescriptorLeft no_leak;
    HubFixture hub;
    MappedClient client(hub);
    CHECK(hub.fake.timers.empty());
    CHECK(hub.fake.opened == 1);
}

TEST_CASE("hub: connections beyond max_pending_handshakes are closed at once, one log line per burst") {
    NoDescriptorLeft no_leak;
    HubFixture hub("{\"ring_bytes\": 4096, \"max_pending_handshakes\": 2}");
    std::vector<int> fds;
    for (int i = 0; i < 5; ++i) fds.push_back(hub.connect());
    CHECK(hub.fake.timers.size() == 2); // two wait for their hello...
    for (int i = 2; i < 5; ++i) CHECK(peer_closed(fds[size_t(i)])); // ...the rest are closed
    CHECK(log_lines_with(hub.fake, "config max_pending_handshakes") == 1);
    hub.fake.fire_timers(); // the two silent ones time out
    for (int i = 0; i < 2; ++i) CHECK(peer_closed(fds[size_t(i)]));
    MappedClient client(hub); // room again: a real client gets in
    CHECK(hub.fake.opened == 1);
    CHECK(log_lines_with(hub.fake, "(3 closed at max_pending_handshakes)") == 1);
    for (int fd : fds) ::close(fd);
}

TEST_CASE("hub: a client rewinding to_hub.head after it hung up gets what it wrote delivered once") {
    NoDescriptorLeft no_leak;
    HubFixture hub;
    MappedClient client(hub);
    for (int i = 0; i < 3; ++i) client.write_record(100);
    int rewinds = 0;
    hub.fake.on_received = [&] { // the client races the hub's every read
        if (++rewinds < 1000) client.seg.header->to_hub.head.store(0);
    };
    client.hang_up();
    hub.fake.pump();
    CHECK(hub.fake.received == 300); // not 300 per rewind
    CHECK(hub.fake.closed == std::vector<int>{ECONNRESET});
    CHECK(hub.only_listening());
}

TEST_CASE("hub: a client that keeps writing after it hung up is delivered only what it wrote before") {
    NoDescriptorLeft no_leak;
    HubFixture hub;
    MappedClient client(hub);
    client.write_record(100);
    int writes = 0;
    hub.fake.on_received = [&] {
        if (++writes < 1000) client.write_record(100);
    };
    client.hang_up();
    hub.fake.pump();
    CHECK(hub.fake.received == 100);
    CHECK(hub.fake.closed == std::vector<int>{ECONNRESET});
}

TEST_CASE("hub: a client moving its read index backwards is corruption: hub_send fails, one clear log line") {
    NoDescriptorLeft no_leak;
    HubFixture hub;
    MappedClient client(hub);
    void *conn = hub.fake.last_plugin_conn;
    std::string bytes(100, 'y');
    iovec iov{bytes.data(), bytes.size()};
    REQUIRE(hub_send(hub.state, conn, &iov, 1) == 100);
    char buf[200];
    REQUIRE(client.seg.to_client.read_stream(buf, sizeof buf) == 100);
    REQUIRE(hub_send(hub.state, conn, &iov, 1) == 100); // the hub saw the client's read
    client.seg.header->to_client.head.store(0); // "I read nothing": the hub would overwrite unread bytes
    CHECK(hub_send(hub.state, conn, &iov, 1) == -EPROTO);
    CHECK(log_lines_with(hub.fake, "corrupted its shared ring from the hub") == 1);
}

TEST_CASE("hub: a client whose to_hub tail is impossible is closed (EPROTO) with a clear log line") {
    NoDescriptorLeft no_leak;
    HubFixture hub;
    MappedClient client(hub);
    client.write_record(10);
    client.seg.header->to_hub.tail.store(uint64_t(1) << 40);
    ring_doorbell(client.doorbell);
    hub.fake.pump();
    CHECK(hub.fake.closed == std::vector<int>{EPROTO});
    CHECK(log_lines_with(hub.fake, "corrupted its shared ring to the hub") == 1);
    CHECK(hub.only_listening());
}
