// The hub half's registration handshake and teardown, driven through the
// real registration socket by a fake host (no hub process): every way a
// client ends releases all it held (descriptors, watches) and is reported
// to the host exactly when the host knew it, exactly once.
#include "hub.hpp"
#include "registration.hpp"
#include "segment.hpp"

#include <doctest/doctest.h>

#include <dirent.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
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
    ipchub_host host{};
    std::map<int, Watch> watches;
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
        host.conn_opened = [](const ipchub_host *h, void *, const char *) -> void * {
            FakeHost *f = self(h);
            if (f->refuse) return nullptr;
            return reinterpret_cast<void *>(uintptr_t(++f->opened));
        };
        host.conn_received = [](const ipchub_host *, void *, const void *, size_t) {};
        host.conn_writable = [](const ipchub_host *, void *) {};
        host.conn_closed = [](const ipchub_host *h, void *, int reason) { self(h)->closed.push_back(reason); };
    }
    static FakeHost *self(const ipchub_host *h) { return static_cast<FakeHost *>(h->ctx); }

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

    HubFixture() {
        char tmpl[] = "/tmp/shm-hub-test.XXXXXX";
        REQUIRE(::mkdtemp(tmpl));
        dir = tmpl;
        ipchub_hub_params params{};
        params.abi_version = IPCHUB_ABI_VERSION;
        params.struct_size = sizeof params;
        std::string instance = "shmhubtest-" + std::to_string(::getpid());
        params.instance = instance.c_str();
        params.runtime_dir = dir.c_str();
        params.config_json = "{\"ring_bytes\": 4096}";
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
