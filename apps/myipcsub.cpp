// myipcsub: print the messages of a hub channel.
#include "cli_common.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <unistd.h>

namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }
} // namespace

int main(int argc, char **argv) {
    CLI::App app{"myipcsub - print the messages published on an ipchub channel.\n\n"
                 "Prints \"[channel] payload\" per message, one line each, as soon as it arrives.",
                 "myipcsub"};
    ipchub::ClientOptions o;
    o.name = "myipcsub";
    std::string channel;
    long long count = 0;
    bool raw = false, quiet = false;
    ipchub::apps::add_client_options(app, o);
    app.add_option("-c,--channel", channel, "Channel to subscribe to ([A-Za-z0-9._-], 1-64 characters)")->required();
    app.add_option("-n,--count", count, "Exit 0 after this many messages (default: run until interrupted)")
        ->check(CLI::PositiveNumber);
    app.add_flag("--raw", raw, "Write each payload's bytes unchanged, with nothing added (for binary data)");
    app.add_flag("-q,--quiet", quiet, "Do not report the subscription on standard error");
    app.footer("Exit status: 0 after --count messages, on SIGINT/SIGTERM or when the reader of standard\n"
               "output goes away (like cat | head), 1 when the hub goes away,\n"
               "2 on bad options or configuration, 3 when no hub serves the instance.");
    if (int rc = ipchub::apps::parse_command_line(app, argc, argv); rc >= 0) return rc;

    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    // Ignored, so a closed standard output shows up as EPIPE from fflush
    // (handled below: unsubscribe, exit 0) and a transport's write as an error.
    std::signal(SIGPIPE, SIG_IGN);

    try {
        auto client = ipchub::Client::connect(o);
        client.subscribe(channel);
        if (!quiet) std::fprintf(stderr, "Subscribed to [%s] via %s (instance %s)\n", channel.c_str(),
                                 client.backend().c_str(), client.instance().c_str());
        long long seen = 0;
        while (!g_stop && (count == 0 || seen < count)) {
            auto m = client.receive(200); // wakes regularly to notice signals
            if (!m) continue;
            ++seen;
            if (!raw) std::printf("[%s] ", m->channel.c_str());
            std::fwrite(m->payload.data(), 1, m->payload.size(), stdout); // fwrite: payloads may hold NUL bytes
            if (!raw) std::fputc('\n', stdout);
            // A pipe or file sees each message at once, and a reader that went
            // away (`| head -1`) is noticed at the message it did not take.
            if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
                int why = errno;
                try {
                    client.unsubscribe(channel); // say goodbye properly: the hub stops queueing for us now
                } catch (const ipchub::Error &) {
                    // Leaving anyway; the hub notices the closed connection.
                }
                // Like cat: a reader that stopped reading is not an error.
                if (why == EPIPE) return 0;
                std::fprintf(stderr, "myipcsub: cannot write to standard output: %s\n", std::strerror(why));
                return 1;
            }
        }
        return 0;
    } catch (const std::exception &e) {
        return ipchub::apps::report("myipcsub", e);
    }
}
