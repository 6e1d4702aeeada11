// ipchub::Error is thrown inside libipchub and caught by its user: its
// typeinfo must be exported, or a catch by type in the program can miss it.
// Linked against libipchub only (not the internal runtime), like any client.
#include <ipchub/client.hpp>

#include <cstdio>
#include <exception>

int main() {
    ipchub::ClientOptions o;
    o.backend = "no-such-backend";
    o.instance = "exports-catch-error";
    o.runtime_dir = "/nonexistent/ipchub-exports-test";
    o.config_path = IPCHUB_BUILD_CONFIG;
    o.plugin_dir = IPCHUB_BUILD_PLUGIN_DIR;
    try {
        ipchub::Client::connect(o);
    } catch (const ipchub::Error &e) {
        if (e.kind() != ipchub::Error::Kind::backend) {
            std::printf("FAIL: caught ipchub::Error of kind %d, expected backend: %s\n", int(e.kind()), e.what());
            return 1;
        }
        std::printf("PASS: caught ipchub::Error (backend) thrown in libipchub: %s\n", e.what());
        return 0;
    } catch (const std::exception &e) {
        std::printf("FAIL: not caught as ipchub::Error: %s\n", e.what());
        return 1;
    }
    std::printf("FAIL: connecting over an unknown backend did not throw\n");
    return 1;
}
