// libFuzzer harness: the frame decoder (sdk FrameReader) fed a hostile byte
// stream cut into chunks of fuzzer-chosen sizes, the way a client's bytes
// reach the hub. Checks what the hub relies on: every frame handed out lies
// inside what was fed, respects the payload limit, and a refused stream
// stays refused.
#include "frame.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>

namespace {
constexpr uint32_t kMaxPayload = 4096; // small, so "too large" is reachable
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    // The first byte picks the chunk size, as a transport's reads would.
    const size_t chunk = size_t(data[0] % 64) + 1;
    ++data;
    --size;
    ipchub::FrameReader reader(kMaxPayload);
    size_t total_frames_bytes = 0;
    bool alive = true;
    for (size_t off = 0; off < size; off += chunk) {
        size_t len = size - off < chunk ? size - off : chunk;
        bool ok = reader.feed(data + off, len, [&](const ipchub::FrameView &f) {
            if (f.header.payload_len > kMaxPayload) std::abort();
            if (f.payload.size() != f.header.payload_len || f.channel.size() != f.header.channel_len) std::abort();
            if (f.raw_size != f.header.frame_size()) std::abort();
            total_frames_bytes += f.raw_size;
        });
        if (!ok) {
            if (reader.error_code() == 0 || reader.error().empty()) std::abort(); // a refusal always says why
            alive = false;
            break;
        }
        if (reader.pending() > kMaxPayload + IPCHUB_FRAME_HEADER_SIZE + IPCHUB_CHANNEL_MAX) std::abort(); // bounded partial frame
    }
    if (total_frames_bytes > size) std::abort();
    if (!alive && reader.feed(data, size, [](const ipchub::FrameView &) { std::abort(); })) std::abort();
    return 0;
}
