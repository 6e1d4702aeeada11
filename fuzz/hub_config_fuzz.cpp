// libFuzzer harness: the plugins.json parser. Any text must either parse or
// be refused with a ConfigError (which the hub turns into exit status 2 and
// one line naming the file and key); any other exception is a bug.
#include "config.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    std::string_view text(reinterpret_cast<const char *>(data), size);
    try {
        ipchub::HubConfig config = ipchub::parse_config(text, "fuzz.json");
        for (auto &p : config.plugins)
            if (p.name.empty()) std::abort(); // a plugin without a name must have been refused
    } catch (const ipchub::ConfigError &e) {
        if (std::string_view(e.what()).find("fuzz.json") == std::string_view::npos) std::abort();
    }
    return 0;
}
