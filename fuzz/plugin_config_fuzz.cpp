// libFuzzer harness: every stock plugin's config parser (the "config" object
// of its plugins.json entry, handed to hub_init and client_connect as JSON
// text). The first byte picks the plugin. Whatever the text, a parser
// returns true or false with a reason; it never throws, crashes or hangs.
#include "fifo/config.hpp"
#include "mqueue/config.hpp"
#include "pipe/config.hpp"
#include "shm/config.hpp"
#include "socket/config.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const std::string text(reinterpret_cast<const char *>(data + 1), size - 1); // NUL-terminated for the C-string parsers
    std::string error;
    bool ok = false;
    switch (data[0] % 5) {
    case 0: {
        ipchub::socket::SocketConfig c;
        ok = ipchub::socket::parse_config(text.c_str(), c, error);
        break;
    }
    case 1: {
        ipchub::fifo::FifoConfig c;
        ok = ipchub::fifo::parse_config(text.c_str(), c, error);
        break;
    }
    case 2: {
        ipchub::mqueue::QueueSize c;
        ok = ipchub::mqueue::parse_config(text.c_str(), c, error);
        break;
    }
    case 3: {
        ipchub::shm::Config c;
        ok = ipchub::shm::parse_config(text.c_str(), c, error);
        break;
    }
    case 4: {
        ipchub::pipe::PipeConfig c;
        ok = ipchub::pipe::parse_pipe_config(text, c, error);
        break;
    }
    }
    if (!ok && error.empty()) std::abort(); // a refusal always says why
    return 0;
}
