// Issue 11 item 14: a client does not trust the hub blindly. Whoever listens
// on the hub's socket (a buggy hub, an impostor) cannot make a client buffer
// more than the frame size announced in the HELLO answer.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <ipchub/client.hpp>
#include <ipchub/protocol.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

using itest::Sandbox;

namespace {

void put_le(uint8_t *out, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out[i] = uint8_t(v >> (8 * i));
}
uint64_t get_le(const uint8_t *in, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | in[i];
    return v;
}

std::vector<uint8_t> header(uint8_t type, uint32_t payload_len, uint64_t id) {
    std::vector<uint8_t> h(IPCHUB_FRAME_HEADER_SIZE, 0);
    put_le(h.data(), IPCHUB_PROTOCOL_MAGIC, 2);
    h[2] = IPCHUB_PROTOCOL_VERSION;
    h[3] = type;
    put_le(h.data() + 8, payload_len, 4);
    put_le(h.data() + 16, id, 8);
    return h;
}

bool read_exact(int fd, void *buf, size_t len) {
    auto *p = static_cast<uint8_t *>(buf);
    while (len) {
        ssize_t n = ::read(fd, p, len);
        if (n <= 0) return false;
        p += n;
        len -= size_t(n);
    }
    return true;
}

void write_all(int fd, const void *buf, size_t len) {
    auto *p = static_cast<const uint8_t *>(buf);
    while (len) {
        ssize_t n = ::send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) return;
        p += n;
        len -= size_t(n);
    }
}

// Reads one frame; returns its id (0 when the peer went away).
uint64_t read_frame(int fd) {
    uint8_t h[IPCHUB_FRAME_HEADER_SIZE];
    if (!read_exact(fd, h, sizeof h)) return 0;
    std::vector<uint8_t> rest(get_le(h + 6, 2) + get_le(h + 8, 4));
    if (!rest.empty() && !read_exact(fd, rest.data(), rest.size())) return 0;
    return get_le(h + 16, 8);
}

long rss_kib() {
    std::string status = itest::read_file("/proc/self/status");
    auto at = status.find("VmRSS:");
    return at == std::string::npos ? -1 : std::strtol(status.c_str() + at + 6, nullptr, 10);
}

// Listens on the sandbox instance's socket path like a hub: answers HELLO
// announcing a 1 KiB message limit, then answers the next request with a
// DATA header of almost 4 GiB followed by 64 MiB of bytes.
struct FakeHub {
    explicit FakeHub(const Sandbox &sb) : path(sb.instance_dir() + "/hub.sock") {
        ::mkdir(sb.runtime_dir().c_str(), 0700);
        ::mkdir(sb.instance_dir().c_str(), 0700);
        listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        REQUIRE(::bind(listener, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0);
        REQUIRE(::listen(listener, 4) == 0);
        thread = std::thread([this] { serve(); });
    }
    ~FakeHub() {
        ::shutdown(listener, SHUT_RDWR);
        if (conn >= 0) ::shutdown(conn, SHUT_RDWR);
        thread.join();
        ::close(listener);
        if (conn >= 0) ::close(conn);
        ::unlink(path.c_str());
    }
    void serve() {
        conn = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn < 0) return;
        uint64_t hello = read_frame(conn);
        if (!hello) return;
        uint8_t limit[4];
        put_le(limit, 1024, 4);
        std::string text = "fake hub";
        auto h = header(IPCHUB_HELLO, uint32_t(4 + text.size()), hello);
        write_all(conn, h.data(), h.size());
        write_all(conn, limit, 4);
        write_all(conn, text.data(), text.size());
        uint64_t request = read_frame(conn);
        if (!request) return;
        auto huge = header(IPCHUB_DATA, 0xFFFFFF00u, request);
        write_all(conn, huge.data(), huge.size());
        std::vector<uint8_t> junk(1 << 20, 'x');
        for (int i = 0; i < 64 && !stop; ++i) write_all(conn, junk.data(), junk.size());
    }
    std::string path;
    int listener = -1;
    int conn = -1;
    std::atomic<bool> stop{false};
    std::thread thread;
};

} // namespace

TEST_CASE("client trust: a frame larger than the hub announced in HELLO is refused, not buffered") {
    Sandbox sb("fake-hub");
    FakeHub fake(sb);
    auto client = sb.client("socket", "victim");
    CHECK(client.max_message_size() == 1024);
    long rss_before = rss_kib();
    long long start = itest::now_ms();
    bool refused = false;
    try {
        client.stats();
    } catch (const ipchub::Error &e) {
        INFO("error: " << std::string(e.what()));
        CHECK(e.kind() == ipchub::Error::Kind::io);
        CHECK(std::string(e.what()).find("more than it announced") != std::string::npos);
        refused = true;
    }
    fake.stop = true;
    CHECK(refused);
    CHECK(itest::now_ms() - start < 4000); // refused at the header, not after a timeout
    long grown = rss_kib() - rss_before;
    INFO("RSS grew by " << grown << " KiB");
    CHECK(grown < 32 * 1024);
}
