// Who owns the hub's runtime directory, its lock, its queues and the hub a
// client talks to (issue 11, items 8-11 and 13). "Another user" is uid 65534
// (nobody): the tests run as root, which can create files owned by it and run
// a hub as it (setpriv), the way a hostile local user would.
#include "harness.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

using itest::Process;
using itest::Sandbox;

namespace {

constexpr uid_t kOtherUid = 65534;
const std::string kVictimText = "precious data of the victim\n";

bool contains(const std::string &text, const std::string &needle) { return text.find(needle) != std::string::npos; }

std::string mode_of(const std::string &path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return "missing";
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04o", unsigned(st.st_mode & 07777));
    return buf;
}

uid_t owner_of(const std::string &path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 ? st.st_uid : uid_t(-1);
}

void make_dir(const std::string &path, mode_t mode, uid_t owner) {
    REQUIRE(::mkdir(path.c_str(), mode) == 0);
    REQUIRE(::chmod(path.c_str(), mode) == 0); // past the umask
    REQUIRE(::chown(path.c_str(), owner, owner) == 0);
}

// A file outside the sandbox's runtime directory the squatter wants clobbered.
std::string victim(const Sandbox &sb) {
    std::string path = sb.dir() + "/victim";
    itest::write_file(path, kVictimText);
    return path;
}

// myipchub run as uid 65534, in the sandbox's environment.
Process hub_as_other_user(Sandbox &sb, const std::vector<std::string> &args) {
    std::vector<std::string> argv{"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                  itest::bin("myipchub")};
    argv.insert(argv.end(), args.begin(), args.end());
    return sb.run(argv);
}

// A message queue created by uid 65534, as another user's hub would.
void create_queue_as_other_user(const std::string &name) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        if (::setgid(kOtherUid) != 0 || ::setuid(kOtherUid) != 0) ::_exit(2);
        mq_attr attr{};
        attr.mq_maxmsg = 1;
        attr.mq_msgsize = 64;
        mqd_t q = ::mq_open(name.c_str(), O_RDONLY | O_CREAT | O_EXCL, 0600, &attr);
        ::_exit(q == mqd_t(-1) ? 1 : 0);
    }
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
}

std::string all_transports_config(const Sandbox &sb, const std::string &file_mode) {
    std::string path = sb.dir() + "/all.json";
    itest::write_file(path, R"({"hub": {"file_mode": ")" + file_mode +
                                R"("}, "plugins": [{"name": "socket"}, {"name": "shm"}, {"name": "fifo"}, {"name": "mqueue"}]})");
    ::chmod(path.c_str(), 0644);
    return path;
}

} // namespace

TEST_CASE("runtime dir: a base and instance directory pre-created by another user are refused, the planted lock's victim untouched") {
    Sandbox sb("squat");
    std::string target = victim(sb);
    make_dir(sb.runtime_dir(), 0755, kOtherUid);
    make_dir(sb.instance_dir(), 0755, kOtherUid);
    std::string lock = sb.instance_dir() + "/hub.lock";
    REQUIRE(::symlink(target.c_str(), lock.c_str()) == 0);
    REQUIRE(::lchown(lock.c_str(), kOtherUid, kOtherUid) == 0);

    auto hub = sb.run({itest::bin("myipchub")});
    CHECK(hub.wait() == 2);
    CHECK(itest::read_file(target) == kVictimText);
    CHECK(contains(hub.err(), sb.runtime_dir()));
    CHECK(contains(hub.err(), "uid 65534"));
    CHECK(contains(hub.err(), "mode 0755"));
    CHECK_FALSE(contains(hub.out(), "Listening"));
}

TEST_CASE("runtime dir: an instance directory others can write is refused") {
    Sandbox sb("writable");
    make_dir(sb.runtime_dir(), 0700, 0);
    make_dir(sb.instance_dir(), 0777, 0);
    auto hub = sb.run({itest::bin("myipchub")});
    CHECK(hub.wait() == 2);
    CHECK(contains(hub.err(), sb.instance_dir()));
    CHECK(contains(hub.err(), "mode 0777"));
    CHECK(mode_of(sb.instance_dir()) == "0777"); // not "fixed" behind the user's back either
}

TEST_CASE("runtime dir: a base under a directory of another user is refused") {
    Sandbox sb("parent");
    std::string theirs = sb.dir() + "/theirs";
    make_dir(theirs, 0755, kOtherUid);
    auto hub = sb.run({itest::bin("myipchub"), "--runtime-dir", theirs + "/run"});
    CHECK(hub.wait() == 2);
    CHECK(contains(hub.err(), theirs));
    CHECK(contains(hub.err(), "uid 65534"));
    CHECK_FALSE(std::filesystem::exists(theirs + "/run"));
}

TEST_CASE("lock: a hub.lock symlink in the hub's own directory is not followed") {
    Sandbox sb("locklink");
    std::string target = victim(sb);
    make_dir(sb.runtime_dir(), 0700, 0);
    make_dir(sb.instance_dir(), 0700, 0);
    std::string lock = sb.instance_dir() + "/hub.lock";
    REQUIRE(::symlink(target.c_str(), lock.c_str()) == 0);
    auto hub = sb.run({itest::bin("myipchub")});
    CHECK(hub.wait() == 2);
    CHECK(itest::read_file(target) == kVictimText);
    CHECK(contains(hub.err(), lock));
}

TEST_CASE("instance names '.', '..' and '.hidden' are refused with exit 2, nothing chmod'ed") {
    Sandbox sb("dots");
    make_dir(sb.runtime_dir(), 0755, 0);
    REQUIRE(::chmod(sb.dir().c_str(), 0755) == 0); // `--instance ..` used to chmod this to 0700
    for (const char *name : {".", "..", ".hidden"}) {
        CAPTURE(name);
        auto hub = sb.run({itest::bin("myipchub"), "--instance", name});
        CHECK(hub.wait() == 2);
        CHECK(contains(hub.err(), "invalid instance name"));
    }
    CHECK(mode_of(sb.dir()) == "0755");
    CHECK(mode_of(sb.runtime_dir()) == "0755");
    CHECK_FALSE(std::filesystem::exists(sb.runtime_dir() + "/.hidden"));
}

TEST_CASE("SIGHUP and SIGQUIT stop the hub with full cleanup, like SIGTERM") {
    for (int sig : {SIGHUP, SIGQUIT}) {
        CAPTURE(sig);
        Sandbox sb(sig == SIGHUP ? "hup" : "quit");
        sb.start_hub();
        auto sub = sb.subscriber("mqueue", "x");
        sb.hub().signal(sig);
        CHECK(sb.hub().wait() == 0);
        CHECK(sub.wait() >= 0);
        CHECK(sb.leftovers().empty());
    }
}

TEST_CASE("config: a number no double holds exits 2 naming the file and the key") {
    Sandbox sb("bignum");
    std::string path = sb.dir() + "/big.json";
    itest::write_file(path, R"({"hub": {"spin_us": 1e400}, "plugins": [{"name": "socket"}]})");
    auto hub = sb.run({itest::bin("myipchub"), "--config", path});
    CHECK(hub.wait() == 2);
    CHECK(contains(hub.err(), path + ": hub.spin_us"));
    CHECK_FALSE(contains(hub.err(), "json.exception"));
}

TEST_CASE("clients refuse a hub run by another user, and accept it when IPCHUB_TRUST_UID names it") {
    Sandbox sb("impostor");
    REQUIRE(::chmod(sb.dir().c_str(), 0755) == 0); // the other user's hub reads its config there
    make_dir(sb.runtime_dir(), 0700, kOtherUid);
    auto hub = hub_as_other_user(sb, {"--config", all_transports_config(sb, "0666")});
    REQUIRE_MESSAGE(hub.wait_out("Listening for connections...", 10000), hub.err());
    CHECK(owner_of(sb.instance_dir()) == kOtherUid);

    for (std::string backend : {"socket", "shm", "fifo"}) {
        CAPTURE(backend);
        auto pub = sb.publisher(backend, "secrets", {}, itest::with_stdin("root's secret\n"));
        CHECK(pub.wait() != 0);
        CHECK(contains(pub.err(), "uid 65534"));
        CHECK(contains(pub.err(), "IPCHUB_TRUST_UID"));
    }
    // mqueue names carry the hub's uid: root's client looks for ".u0." and
    // does not find this hub at all; a queue squatting that name is refused.
    auto unseen = sb.publisher("mqueue", "secrets", {}, itest::with_stdin("root's secret\n"));
    CHECK(unseen.wait() != 0);
    std::string squatted = "/ipchub." + sb.instance() + ".u0.mq.register";
    create_queue_as_other_user(squatted);
    auto refused = sb.publisher("mqueue", "secrets", {}, itest::with_stdin("root's secret\n"));
    CHECK(refused.wait() != 0);
    CHECK(contains(refused.err(), "uid 65534"));
    ::mq_unlink(squatted.c_str());

    Process::Options trust;
    trust.env["IPCHUB_TRUST_UID"] = "65534";
    trust.stdin_text = "meant for the service user\n";
    for (std::string backend : {"socket", "shm", "mqueue"}) {
        CAPTURE(backend);
        auto pub = sb.publisher(backend, "shared", {}, trust);
        CHECK(pub.wait() == 0);
        CHECK(pub.out() == "Published (0 subscribers)\n");
    }
    hub.signal(SIGTERM);
    CHECK(hub.wait() == 0);
    CHECK_MESSAGE(sb.leftovers().empty(), itest::join(sb.leftovers()));
}

TEST_CASE("mqueue: queue names carry the uid and a hub never removes another user's queue") {
    Sandbox sb("mqowner");
    // Another user's live queue under the name this instance used for every user.
    std::string theirs = "/ipchub." + sb.instance() + ".mq.register";
    create_queue_as_other_user(theirs);
    // And one squatting the name the hub uses now, uid and all.
    std::string squatted = "/ipchub." + sb.instance() + ".u0.mq.register";
    create_queue_as_other_user(squatted);

    auto &hub = sb.start_hub({"--config", all_transports_config(sb, "0600")});
    CHECK(owner_of("/dev/mqueue" + theirs) == kOtherUid);
    CHECK(owner_of("/dev/mqueue" + squatted) == kOtherUid);
    CHECK(contains(hub.err(), "belongs to another user"));
    // The other transports still serve.
    auto pub = sb.publisher("socket", "x", {}, itest::with_stdin("hi\n"));
    CHECK(pub.wait() == 0);
    hub.signal(SIGTERM);
    CHECK(hub.wait() == 0);
    CHECK(owner_of("/dev/mqueue" + theirs) == kOtherUid);
    CHECK(owner_of("/dev/mqueue" + squatted) == kOtherUid);
    ::mq_unlink(theirs.c_str());
    ::mq_unlink(squatted.c_str());
    CHECK_MESSAGE(sb.leftovers().empty(), itest::join(sb.leftovers()));
}

TEST_CASE("mqueue: hubs of two users on one instance name keep their own queues") {
    Sandbox sb("mqtwo");
    REQUIRE(::chmod(sb.dir().c_str(), 0755) == 0);
    make_dir(sb.runtime_dir(), 0700, kOtherUid);
    auto theirs = hub_as_other_user(sb, {"--config", all_transports_config(sb, "0600")});
    REQUIRE_MESSAGE(theirs.wait_out("Listening for connections...", 10000), theirs.err());
    std::string their_queue = "/dev/mqueue/ipchub." + sb.instance() + ".u65534.mq.register";
    CHECK(owner_of(their_queue) == kOtherUid);

    // Root's hub of the same instance, in its own runtime directory.
    std::string mine_dir = sb.dir() + "/mine";
    auto mine = sb.run({itest::bin("myipchub"), "--runtime-dir", mine_dir});
    REQUIRE_MESSAGE(mine.wait_out("Listening for connections...", 10000), mine.err());
    CHECK(owner_of(their_queue) == kOtherUid);
    CHECK(owner_of("/dev/mqueue/ipchub." + sb.instance() + ".u0.mq.register") == 0);

    Process::Options opts = itest::with_stdin("hello\n");
    opts.env["IPCHUB_RUNTIME_DIR"] = mine_dir;
    auto pub = sb.publisher("mqueue", "x", {}, opts);
    CHECK(pub.wait() == 0);
    mine.signal(SIGTERM);
    CHECK(mine.wait() == 0);
    CHECK(owner_of(their_queue) == kOtherUid); // root's cleanup left it alone
    theirs.signal(SIGTERM);
    CHECK(theirs.wait() == 0);
    CHECK_MESSAGE(sb.leftovers().empty(), itest::join(sb.leftovers()));
}
