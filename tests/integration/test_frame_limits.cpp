// A transport's own frame limit and message boundaries, against a real hub:
// the SOCK_SEQPACKET test transport (tests/plugins/seqpacket_plugin.c, 8192-
// byte frames, IPCHUB_CAP_MESSAGE_BOUNDARIES) serves beside the socket
// transport (byte stream, the hub's 1 MiB limit). It is installed in a
// folder of its own, found through plugins.json's "plugin_dirs".
#include "harness.hpp"

#include <ipchub/plugin.h>
#include <ipchub/protocol.h>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <signal.h>

#include <filesystem>

using itest::Sandbox;

namespace {

const std::string kTestPlugins = std::string(IPCHUB_BUILD_ROOT) + "/tests/plugins";
constexpr uint32_t kSeqFrame = 8192; // the test transport's max_frame_size
constexpr uint32_t kSeqMessage = kSeqFrame - IPCHUB_FRAME_HEADER_SIZE - IPCHUB_CHANNEL_MAX;

// A plugins.json in the sandbox with the stock socket plugin (found in the
// default directory) and the seqpacket plugin copied to <sandbox>/third-party,
// named by a plugin_dirs entry relative to the config file.
std::string third_party_config(Sandbox &sb) {
    std::filesystem::create_directories(sb.dir() + "/third-party");
    std::filesystem::copy_file(kTestPlugins + "/libipchub-test-seqpacket.so",
                               sb.dir() + "/third-party/libipchub-test-seqpacket.so");
    std::string path = sb.dir() + "/plugins.json";
    itest::write_file(path, R"({"plugin_dirs": ["third-party"],
        "plugins": [{"name": "socket"}, {"name": "seqpacket", "file": "libipchub-test-seqpacket.so"}]})");
    return path;
}

ipchub::Client connect(const Sandbox &sb, const std::string &config, const std::string &backend,
                       const std::string &name) {
    ipchub::ClientOptions o;
    o.backend = backend;
    o.instance = sb.instance();
    o.runtime_dir = sb.runtime_dir();
    o.config_path = config;
    o.name = name;
    return ipchub::Client::connect(o);
}

std::string payload(size_t size, char fill) {
    std::string p(size, fill);
    for (size_t i = 0; i < size; i += 97) p[i] = char('0' + i % 10); // not one repeated byte
    return p;
}

// "<tag><i>" and payload(i * 20, fill), appended: GCC 12 -Wrestrict misfires on
// "s" + string&& at -O2 (bug 105329).
std::string tagged(char tag, int i, char fill) {
    std::string text(1, tag);
    text += std::to_string(i);
    text += payload(size_t(i) * 20, fill);
    return text;
}
} // namespace

TEST_CASE("frame limits: a message-boundary transport with small frames beside a byte stream, both ways") {
    Sandbox sb("frame-limits");
    std::string cfg = third_party_config(sb);
    sb.start_hub({"--config", cfg});
    std::string err = sb.hub().err();
    INFO(err);
    CHECK(err.find("transport 'seqpacket': frames up to 8192 bytes, messages up to " + std::to_string(kSeqMessage) +
                   " bytes (the transport's own limit)") != std::string::npos);
    CHECK(sb.hub().out().find("Backends available: socket, seqpacket\n") != std::string::npos);
    {
        auto seq_a = connect(sb, cfg, "seqpacket", "seq-a");
        auto seq_b = connect(sb, cfg, "seqpacket", "seq-b");
        auto sock = connect(sb, cfg, "socket", "sock");
        auto seq_pub = connect(sb, cfg, "seqpacket", "seq-pub");
        auto sock_pub = connect(sb, cfg, "socket", "sock-pub");
        CHECK(seq_pub.max_message_size() == kSeqMessage);
        CHECK(sock_pub.max_message_size() == IPCHUB_DEFAULT_MAX_MESSAGE);
        for (auto *c : {&seq_a, &seq_b, &sock}) c->subscribe("lim");

        auto expect = [](ipchub::Client &c, const std::string &text) {
            auto m = c.receive(5000);
            REQUIRE(m);
            CHECK(m->channel == "lim");
            CHECK(m->payload.size() == text.size());
            CHECK(m->payload == text);
        };

        // Byte stream -> boundaries, at the limit: fan-out to all three.
        std::string at_limit = payload(kSeqMessage, 'a');
        CHECK(sock_pub.publish("lim", at_limit) == 3);
        for (auto *c : {&seq_a, &seq_b, &sock}) expect(*c, at_limit);

        // Delivery is judged by the frame: on a 3-byte channel a frame of
        // exactly 8192 bytes still reaches the seqpacket subscribers ...
        std::string full_frame = payload(kSeqFrame - IPCHUB_FRAME_HEADER_SIZE - 3, 'f');
        CHECK(sock_pub.publish("lim", full_frame) == 3);
        for (auto *c : {&seq_a, &seq_b, &sock}) expect(*c, full_frame);
        // ... one byte more never does (and is not counted as delivered); the
        // socket subscriber gets it, and what follows still arrives in order.
        std::string over = full_frame + "!";
        CHECK(sock_pub.publish("lim", over) == 1);
        CHECK(sock_pub.publish("lim", "after") == 3);
        expect(sock, over);
        for (auto *c : {&seq_a, &seq_b, &sock}) expect(*c, "after");

        // Boundaries -> byte stream and boundaries, at the limit.
        std::string from_seq = payload(kSeqMessage, 's');
        CHECK(seq_pub.publish("lim", from_seq) == 3);
        for (auto *c : {&seq_a, &seq_b, &sock}) expect(*c, from_seq);

        // The client refuses what its transport cannot carry, with the reason.
        try {
            seq_pub.publish("lim", payload(kSeqMessage + 1, 'x'));
            FAIL("a message above the transport's limit was accepted");
        } catch (const ipchub::Error &e) {
            CHECK(e.kind() == ipchub::Error::Kind::invalid);
            CHECK(std::string(e.what()).find("exceeds the hub's limit of " + std::to_string(kSeqMessage)) !=
                  std::string::npos);
        }

        // Many frames per flush both ways: the hub offers one frame per iovec,
        // the client sends one per iovec; every one arrives whole and in order.
        for (int i = 0; i < 300; ++i) sock_pub.publish_nowait("lim", tagged('s', i, 'b'));
        for (int i = 0; i < 300; ++i) seq_pub.publish_nowait("lim", tagged('q', i, 'c'));
        sock_pub.flush();
        seq_pub.flush();
        for (auto *c : {&seq_a, &seq_b, &sock}) {
            int s = 0, q = 0;
            for (int n = 0; n < 600; ++n) {
                auto m = c->receive(5000);
                REQUIRE(m);
                if (m->payload[0] == 's') {
                    CHECK(m->payload == tagged('s', s, 'b'));
                    ++s;
                } else {
                    CHECK(m->payload == tagged('q', q, 'c'));
                    ++q;
                }
            }
            CHECK(s == 300);
            CHECK(q == 300);
        }

        auto stats = nlohmann::json::parse(sock_pub.stats());
        CHECK(stats["too_large_dropped"] == 2);
    }
    CHECK(sb.hub().wait_err("not delivering a frame of " + std::to_string(kSeqFrame + 1) +
                            " bytes: transport 'seqpacket' carries at most 8192"));
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("plugin dirs: --plugin-dir is repeatable and searched in order before plugins.json's and the default") {
    Sandbox sb("plugin-dirs");
    std::string cfg = sb.dir() + "/plugins.json";
    // Only the second --plugin-dir has the stub: the first (missing) is skipped over.
    itest::write_file(cfg, R"({"plugins": [{"name": "socket"}, {"name": "stub", "file": "libipchub-test-stub.so"}]})");
    auto hub = sb.run({itest::bin("myipchub"), "--list-plugins", "--config", cfg, "--plugin-dir", sb.dir() + "/none",
                       "--plugin-dir", kTestPlugins});
    CHECK(hub.wait() == 0);
    std::string out = hub.out();
    INFO(out);
    INFO(hub.err());
    CHECK(out.find("searched in " + sb.dir() + "/none:" + kTestPlugins + ":" + std::string(IPCHUB_BUILD_ROOT) +
                   "/lib/ipchub/plugins;") != std::string::npos);
    CHECK(out.find(kTestPlugins + "/libipchub-test-stub.so") != std::string::npos);
    CHECK(out.find(std::string(IPCHUB_BUILD_ROOT) + "/lib/ipchub/plugins/libipchub-socket.so") != std::string::npos);
    CHECK(out.find("unavailable") == std::string::npos);
}

TEST_CASE("plugin dirs: hub and client tools find a plugin only the --plugin-dir options name") {
    Sandbox sb("plugin-dirs-tools");
    std::string cfg = sb.dir() + "/plugins.json";
    itest::write_file(cfg, R"({"plugins": [{"name": "socket"}, {"name": "seqpacket", "file": "libipchub-test-seqpacket.so"}]})");
    const std::vector<std::string> dirs = {"--config", cfg, "--plugin-dir", sb.dir() + "/none", "--plugin-dir", kTestPlugins};
    sb.start_hub(dirs);
    CHECK(sb.hub().out().find("Backends available: socket, seqpacket\n") != std::string::npos);
    auto sub = sb.subscriber("seqpacket", "dirs", [&] { auto a = dirs; a.insert(a.end(), {"--count", "1"}); return a; }());
    auto pub = sb.publisher("socket", "dirs", dirs, itest::with_stdin("found\n"));
    CHECK(pub.wait() == 0);
    CHECK(sub.wait() == 0);
    CHECK(sub.out() == "[dirs] found\n");
    // Without the options the client cannot find it, and says where it looked.
    auto lost = sb.run({itest::bin("myipcpub"), "--backend", "seqpacket", "--channel", "dirs", "--config", cfg,
                        "--message", "x"});
    CHECK(lost.wait() != 0);
    CHECK(lost.err().find("libipchub-test-seqpacket.so") != std::string::npos);
    sb.hub().signal(SIGTERM);
    CHECK(sb.hub().wait() == 0);
    CHECK(sb.leftovers().empty());
}

TEST_CASE("--list-plugins: every plugin of the config, enabled or not, what it declares or why it cannot load") {
    Sandbox sb("list-plugins");
    std::string cfg = sb.dir() + "/plugins.json";
    itest::write_file(cfg, "{\"plugin_dirs\": [\"" + kTestPlugins + R"("],
        "plugins": [{"name": "socket"},
                    {"name": "seqpacket", "file": "libipchub-test-seqpacket.so", "required": true},
                    {"name": "seqpacket-small", "file": "libipchub-test-seqpacket-small.so"},
                    {"name": "abi-old", "file": "libipchub-test-abi-old.so", "enabled": false},
                    {"name": "major2", "file": "libipchub-test-major2.so", "enabled": false},
                    {"name": "ghost", "file": "libipchub-test-ghost.so"}]})");
    auto hub = sb.run({itest::bin("myipchub"), "--list-plugins", "--config", cfg});
    CHECK(hub.wait() == 0);
    std::string out = hub.out();
    INFO(out);
    auto row = [&](const std::string &name) {
        size_t at = out.find("\n" + name + " ");
        REQUIRE_MESSAGE(at != std::string::npos, "no row for " << name);
        size_t end = out.find('\n', at + 1);
        std::string line = out.substr(at + 1, end - at - 1);
        // Collapse the padding so the checks do not depend on column widths.
        std::string words;
        for (char ch : line)
            if (ch != ' ' || (!words.empty() && words.back() != ' ')) words += ch;
        return words;
    };
    CHECK(out.find("NAME") != std::string::npos);
    CHECK(row("socket").find("socket enabled 1.1 " + std::to_string(sizeof(ipchub_plugin)) + " B 1.0 - -") == 0);
    CHECK(row("seqpacket").find("seqpacket required 1.1") == 0);
    CHECK(row("seqpacket").find("1.0-test boundaries 8192 " + kTestPlugins + "/libipchub-test-seqpacket.so "
                                "SOCK_SEQPACKET test transport") != std::string::npos);
    CHECK(row("seqpacket-small").find("seqpacket-small unavailable") == 0);
    CHECK(out.find("why: plugin 'seqpacket-small' (" + kTestPlugins +
                   "/libipchub-test-seqpacket-small.so): declares max_frame_size 1024, below IPCHUB_MIN_FRAME_SIZE") !=
          std::string::npos);
    CHECK(row("abi-old").find("abi-old disabled 1.0") == 0); // the ABI it declares, not the host's
    CHECK(row("major2").find("major2 disabled -") == 0);
    CHECK(out.find("why: plugin 'major2'") != std::string::npos);
    CHECK(row("ghost").find("ghost unavailable") == 0);
    CHECK(out.find("why: plugin 'ghost'") != std::string::npos);
    CHECK(sb.leftovers().empty()); // listing starts no hub
}

TEST_CASE("fatal signal: a plugin that crashes in load or init is named with the phase; the next hub sweeps") {
    for (auto [plugin, phase] : {std::pair{"seqpacket-crash", "init"}, std::pair{"seqpacket-crashload", "load"}}) {
        CAPTURE(phase);
        Sandbox sb(std::string("fatal-") + phase);
        std::string cfg = sb.dir() + "/plugins.json";
        std::string crash_file = kTestPlugins + "/libipchub-test-" + plugin + ".so";
        itest::write_file(cfg, "{\"plugins\": [{\"name\": \"socket\"}, {\"name\": \"" + std::string(plugin) +
                                   "\", \"file\": \"" + crash_file + "\"}]}");
        // No core file from the deliberate crash.
        auto crashed =
            sb.run({"/bin/sh", "-c", "ulimit -c 0; exec \"$0\" \"$@\"", itest::bin("myipchub"), "--config", cfg});
        CHECK(crashed.wait() == 128 + SIGSEGV); // still a crash, not a tidy exit
        std::string err = crashed.err();
        INFO(err);
        CHECK(err.find("myipchub: fatal signal SIGSEGV in plugin '" + std::string(plugin) + "' (" + crash_file +
                       ") during " + phase + "; ") != std::string::npos);
        CHECK(std::filesystem::exists(sb.instance_dir() + "/hub.lock")); // the dead hub's
        if (std::string(phase) == "init") // the socket transport had started: its socket is left too
            CHECK(std::filesystem::exists(sb.instance_dir() + "/hub.sock"));

        std::string socket_only = sb.dir() + "/socket.json";
        itest::write_file(socket_only, R"({"plugins": [{"name": "socket"}]})");
        sb.start_hub({"--config", socket_only});
        CHECK(sb.hub().err().find("died without cleaning up; taking over") != std::string::npos);
        auto sub = sb.subscriber("socket", "after-crash", {"--config", socket_only, "--count", "1"});
        auto pub = sb.publisher("socket", "after-crash", {"--config", socket_only}, itest::with_stdin("works\n"));
        CHECK(pub.wait() == 0);
        CHECK(sub.wait() == 0);
        CHECK(sub.out() == "[after-crash] works\n");
        sb.hub().signal(SIGTERM);
        CHECK(sb.hub().wait() == 0);
        CHECK(sb.leftovers().empty());
    }
}
