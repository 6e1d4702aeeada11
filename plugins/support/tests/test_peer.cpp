#include "errors.hpp"
#include "peer.hpp"
#include "pidfd.hpp"
#include "plugin_table.hpp"
#include "unix_socket.hpp"

#include <doctest/doctest.h>

#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

using namespace ipchub::plugin;

namespace {
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/ipchub-kit-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() { ::rmdir(path.c_str()); }
};
} // namespace

TEST_CASE("peer: accept_peer tells who connected to what connect_unix reached") {
    TempDir dir;
    std::string path = dir.path + "/hub.sock";
    char err[256] = "";
    int listener = listen_unix(path, SOCK_STREAM, 0600, err, sizeof err);
    REQUIRE_MESSAGE(listener >= 0, err);
    PeerCredentials peer;
    CHECK(accept_peer(listener, peer) == -EAGAIN);
    int client = connect_unix(path, SOCK_STREAM, "test", err, sizeof err);
    REQUIRE_MESSAGE(client >= 0, err);
    int server = accept_peer(listener, peer);
    REQUIRE(server >= 0);
    CHECK(peer.known);
    CHECK(peer.pid == ::getpid());
    CHECK(peer.uid == ::getuid());
    CHECK(peer.description() == "pid " + std::to_string(::getpid()) + " uid " + std::to_string(::getuid()));
    ::close(server);
    ::close(client);
    ::close(listener);
    ::unlink(path.c_str());
}

TEST_CASE("peer: connect_unix says no hub is running and refuses a path too long") {
    TempDir dir;
    char err[256] = "";
    CHECK(connect_unix(dir.path + "/hub.sock", SOCK_STREAM, "inst", err, sizeof err) == -ENOENT);
    CHECK(std::string(err).find("no hub is running for instance 'inst'") == 0);
    CHECK(connect_unix(std::string(200, 'x'), SOCK_STREAM, "inst", err, sizeof err) == -ENAMETOOLONG);
    CHECK(std::string(err).find("longer than") != std::string::npos);
}

TEST_CASE("pidfd: a pidfd turns readable when its process exits") {
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::usleep(20000);
        ::_exit(0);
    }
    int fd = open_pidfd(child);
    REQUIRE(fd >= 0);
    CHECK(process_alive(child));
    int status = 0;
    ::waitpid(child, &status, 0);
    CHECK(pidfd_exited(fd));
    CHECK_FALSE(process_alive(child));
    ::close(fd);
    CHECK_FALSE(process_alive(0));
    CHECK_FALSE(process_alive(-1));
    CHECK_FALSE(process_alive(int64_t(1) << 40));
}

namespace {
int64_t no_send(void *, void *, const struct iovec *, size_t) { return 0; }
IPCHUB_PLUGIN_TABLE(kTable, .name = "kit", .version = "0", .hub_send = no_send)
} // namespace

TEST_CASE("plugin_table: fills the version and size, keeps the rest") {
    static_assert(kTable.abi_version == IPCHUB_ABI_VERSION);
    static_assert(kTable.struct_size == sizeof(ipchub_plugin));
    CHECK(std::string(kTable.name) == "kit");
    CHECK(bool(kTable.hub_send == no_send));
    CHECK(bool(kTable.hub_init == nullptr));
    char err[16];
    CHECK(format_error(err, sizeof err, -EINVAL, "%s", "a long message cut short") == -EINVAL);
    CHECK(std::string(err) == "a long message ");
}
