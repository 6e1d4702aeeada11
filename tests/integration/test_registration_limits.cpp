// Issue 11 item 5, fifo and mqueue: registrations that never complete and
// garbage registrations cost the hub a bounded amount of descriptors, time
// and log lines, and never keep other clients out.
#include "harness.hpp"

#include "../../plugins/fifo/registration.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

using itest::Sandbox;
namespace fs = std::filesystem;

namespace {

long open_fds(pid_t pid) {
    std::error_code ec;
    long n = 0;
    for (auto it = fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec); !ec && it != fs::directory_iterator();
         it.increment(ec))
        ++n;
    return n;
}

size_t lines_with(const std::string &text, const std::string &needle) {
    std::istringstream in(text);
    size_t n = 0;
    for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos;
    return n;
}

std::string config(const Sandbox &sb, const std::string &plugin, const std::string &plugin_config) {
    std::string path = sb.dir() + "/limits.json";
    itest::write_file(path, R"({"hub": {"shutdown_drain_ms": 500}, "plugins": [{"name": "socket", "required": true},
        {"name": ")" + plugin + R"(", "required": true, "config": )" + plugin_config + "}]}");
    return path;
}

// The first half of a FIFO client's handshake (FIFOs made, .down open for
// reading, record written), and then nothing.
struct StalledRegistration {
    std::string up, down;
    int down_fd = -1;
    StalledRegistration(const Sandbox &sb, uint32_t serial) {
        std::string base = ipchub::fifo::client_base(sb.instance_dir(), uint32_t(::getpid()), serial);
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
        r.pid = uint32_t(::getpid());
        r.serial = serial;
        r.nonce = 7;
        ipchub::fifo::encode(r, record);
        CHECK(::write(reg, record, sizeof record) == ssize_t(sizeof record));
        ::close(reg);
    }
    ~StalledRegistration() {
        if (down_fd >= 0) ::close(down_fd);
        ::unlink(up.c_str());
        ::unlink(down.c_str());
    }
};

} // namespace

TEST_CASE("fifo: registrations that never complete are capped per process and time out, others still connect") {
    Sandbox sb("fifo-stall");
    sb.start_hub({"--config", config(sb, "fifo", R"({"handshake_timeout_ms": 2000})")});
    pid_t hub = sb.hub().pid();
    long baseline = open_fds(hub);
    std::vector<std::unique_ptr<StalledRegistration>> stalled;
    for (uint32_t serial = 1000; serial < 1100; ++serial) stalled.push_back(std::make_unique<StalledRegistration>(sb, serial));
    // The hub has read every record once the FIFO is empty; give it a moment.
    ::usleep(300 * 1000);
    long during = open_fds(hub);
    MESSAGE("hub descriptors: " << baseline << " before, " << during << " with 100 stalled registrations");
    CHECK(during - baseline <= 16 * 3 + 8); // at most 16 pending handshakes of one process, 3 descriptors each
    // Another process connects over fifo meanwhile.
    auto pub = sb.publisher("fifo", "x", {"--message", "m"});
    CHECK(pub.wait() == 0);
    // The stalled ones are dropped after handshake_timeout_ms.
    CHECK(itest::eventually([&] { return open_fds(hub) <= baseline + 2; }, 10000));
    CHECK(lines_with(sb.hub().err(), "ignoring the registration") <= 2); // one line per burst
    stalled.clear();
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("mqueue: a flood of garbage registrations neither floods the log nor keeps clients out") {
    Sandbox sb("mq-garbage");
    sb.start_hub({"--config", config(sb, "mqueue", "{}"), "--verbose"});
    std::string queue;
    for (auto &e : fs::directory_iterator("/dev/mqueue")) {
        std::string name = e.path().filename().string();
        if (name.find(sb.instance()) != std::string::npos && name.find("register") != std::string::npos) queue = "/" + name;
    }
    REQUIRE(!queue.empty());
    mqd_t q = ::mq_open(queue.c_str(), O_WRONLY | O_CLOEXEC);
    REQUIRE(q != mqd_t(-1));
    std::atomic<bool> stop{false};
    std::atomic<long> sent{0};
    std::thread flood([&] {
        const char garbage[7] = "junk!!";
        timespec soon{};
        while (!stop) {
            clock_gettime(CLOCK_REALTIME, &soon);
            soon.tv_nsec += 50 * 1000 * 1000;
            if (soon.tv_nsec >= 1000000000) {
                soon.tv_sec += 1;
                soon.tv_nsec -= 1000000000;
            }
            if (::mq_timedsend(q, garbage, sizeof garbage, 0, &soon) == 0) ++sent;
        }
    });
    ::usleep(500 * 1000);
    // Clients of both transports get through while the flood goes on.
    long long start = itest::now_ms();
    auto pub = sb.publisher("mqueue", "x", {"--message", "m"});
    CHECK(pub.wait() == 0);
    auto other = sb.client("socket", "other");
    CHECK(other.stats().find("\"connections\"") != std::string::npos);
    long long took = itest::now_ms() - start;
    ::usleep(500 * 1000);
    stop = true;
    flood.join();
    ::mq_close(q);
    MESSAGE("garbage registrations sent: " << sent.load() << ", clients answered in " << took << " ms");
    CHECK(sent > 100);
    size_t lines = lines_with(sb.hub().err(), "malformed registration");
    MESSAGE("log lines about them: " << lines);
    CHECK(lines <= 3);
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    CHECK(sb.leftovers().empty());
}
