// myipcpub: publish messages to a hub channel.
#include "cli_common.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

int main(int argc, char **argv) {
    CLI::App app{"myipcpub - publish messages on an ipchub channel.\n\n"
                 "Publishes --message, or the bytes of --file as one message, or else each line of\n"
                 "standard input as one message. After each message it prints how many subscribers\n"
                 "received it: \"Published (N subscribers)\".",
                 "myipcpub"};
    ipchub::ClientOptions o;
    o.name = "myipcpub";
    std::string channel, message, file;
    bool quiet = false;
    ipchub::apps::add_client_options(app, o);
    app.add_option("-c,--channel", channel, "Channel to publish on ([A-Za-z0-9._-], 1-64 characters)")->required();
    auto *msg = app.add_option("-m,--message", message, "Publish this text as one message");
    app.add_option("-f,--file", file, "Publish this file's bytes as one binary message")->excludes(msg);
    app.add_flag("-q,--quiet", quiet, "Do not print the delivery count");
    app.footer("Exit status: 0 when every message was published, 1 on a lost connection or refused\n"
               "message, 2 on bad options or configuration, 3 when no hub serves the instance.");
    if (int rc = ipchub::apps::parse_command_line(app, argc, argv); rc >= 0) return rc;

    try {
        auto client = ipchub::Client::connect(o);
        auto publish = [&](std::string_view payload) {
            uint32_t n = client.publish(channel, payload);
            if (!quiet) {
                std::printf("Published (%u subscriber%s)\n", n, n == 1 ? "" : "s");
                std::fflush(stdout);
            }
        };
        if (!file.empty()) {
            std::ifstream in(file, std::ios::binary);
            if (!in) throw ipchub::Error(ipchub::Error::Kind::invalid, "cannot read " + file);
            std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
            publish(bytes);
        } else if (app.count("--message")) {
            publish(message);
        } else {
            std::string line;
            while (std::getline(std::cin, line)) publish(line);
        }
        return 0;
    } catch (const std::exception &e) {
        return ipchub::apps::report("myipcpub", e);
    }
}
