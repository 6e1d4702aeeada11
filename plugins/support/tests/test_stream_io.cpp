#include "stream_io.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

using namespace ipchub::plugin;

namespace {
struct Pipe {
    int r = -1, w = -1;
    Pipe() {
        int p[2];
        REQUIRE(::pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
        r = p[0];
        w = p[1];
    }
    ~Pipe() {
        if (r >= 0) ::close(r);
        if (w >= 0) ::close(w);
    }
};
} // namespace

TEST_CASE("stream_io: a full pipe takes part of the iovecs, then nothing, never blocking") {
    Pipe p;
    int capacity = ::fcntl(p.w, F_GETPIPE_SZ);
    REQUIRE(capacity > 0);
    std::vector<char> a(size_t(capacity) / 2, 'a'), b(size_t(capacity), 'b');
    iovec iov[2] = {{a.data(), a.size()}, {b.data(), b.size()}};
    size_t total = iov_bytes(iov, 2);
    CHECK(total == a.size() + b.size());
    int64_t n = stream_send(p.w, StreamKind::pipe, iov, 2);
    CHECK(n > 0);
    CHECK(size_t(n) < total); // short: the rest did not fit
    CHECK(stream_send(p.w, StreamKind::pipe, iov, 2) == 0); // full: 0, not -EAGAIN
}

TEST_CASE("stream_io: the client send waits until the deadline, then returns 0") {
    Pipe p;
    std::vector<char> big(size_t(::fcntl(p.w, F_GETPIPE_SZ)) * 2, 'x');
    iovec iov{big.data(), big.size()};
    CHECK(stream_send_wait(p.w, StreamKind::pipe, &iov, 1, Deadline::after_ms(1000)) > 0);
    CHECK(stream_send_wait(p.w, StreamKind::pipe, &iov, 1, Deadline::after_ms(30)) == 0);
}

TEST_CASE("stream_io: writing to a pipe without reader is -EPIPE, not death by SIGPIPE") {
    struct sigaction dfl {}, old {};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &dfl, &old); // what a client program may have
    Pipe p;
    ::close(p.r);
    p.r = -1;
    char byte = 'x';
    iovec iov{&byte, 1};
    CHECK(stream_send_wait(p.w, StreamKind::pipe, &iov, 1, Deadline::after_ms(100)) == -EPIPE);
    ::sigaction(SIGPIPE, &old, nullptr);
}

TEST_CASE("stream_io: a socket peer that closed is -EPIPE on send and on receive") {
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
    char buf[8];
    CHECK(stream_recv_wait(sv[0], buf, sizeof buf, Deadline::after_ms(20)) == 0); // nothing yet: timeout
    REQUIRE(::write(sv[1], "hi", 2) == 2);
    CHECK(stream_recv_wait(sv[0], buf, sizeof buf, Deadline::after_ms(1000)) == 2);
    ::close(sv[1]);
    CHECK(stream_recv_wait(sv[0], buf, sizeof buf, Deadline::after_ms(1000)) == -EPIPE);
    iovec iov{buf, 1};
    CHECK(stream_send_wait(sv[0], StreamKind::socket, &iov, 1, Deadline::after_ms(100)) == -EPIPE);
    ::close(sv[0]);
}

namespace {
struct Received {
    std::vector<unsigned char> bytes;
    int calls = 0;
    bool pause_after_first = false;
    bool *receiving = nullptr;
};

void on_received(const ipchub_host *host, void *, const void *data, size_t len) {
    auto *r = static_cast<Received *>(host->ctx);
    auto *p = static_cast<const unsigned char *>(data);
    r->bytes.insert(r->bytes.end(), p, p + len);
    if (++r->calls == 1 && r->pause_after_first) *r->receiving = false;
}
} // namespace

TEST_CASE("stream_io: pump_stream hands over what is there, stops when paused, reports EOF") {
    Pipe p;
    Received got;
    ipchub_host host{};
    host.ctx = &got;
    host.conn_received = on_received;
    bool receiving = true;
    got.receiving = &receiving;
    unsigned char buffer[4];
    REQUIRE(::write(p.w, "abcdefghij", 10) == 10);

    got.pause_after_first = true; // the hub pauses from inside conn_received
    CHECK_FALSE(pump_stream(&host, nullptr, p.r, buffer, sizeof buffer, 8, &receiving).has_value());
    CHECK(got.calls == 1);
    receiving = true;
    CHECK_FALSE(pump_stream(&host, nullptr, p.r, buffer, sizeof buffer, 8, &receiving).has_value());
    CHECK(std::string(got.bytes.begin(), got.bytes.end()) == "abcdefghij");

    ::close(p.w);
    p.w = -1;
    auto end = pump_stream(&host, nullptr, p.r, buffer, sizeof buffer, 8, &receiving);
    REQUIRE(end.has_value());
    CHECK(*end == 0);
}
