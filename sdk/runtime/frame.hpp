// Encoding and decoding of protocol frames (sdk/include/ipchub/protocol.h).
// The one place that knows the header layout; hub and clients both use it.
#pragma once

#include "byte_buffer.hpp"

#include <ipchub/protocol.h>

#include <sys/uio.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

namespace ipchub {

struct FrameHeader {
    uint8_t type = 0;
    uint16_t flags = 0;
    uint16_t channel_len = 0;
    uint32_t payload_len = 0;
    uint64_t id = 0;

    size_t frame_size() const { return IPCHUB_FRAME_HEADER_SIZE + channel_len + size_t{payload_len}; }
};

// A complete frame inside some buffer; views are valid as long as that buffer.
struct FrameView {
    FrameHeader header;
    std::string_view channel;
    std::string_view payload;
    const uint8_t *raw = nullptr; // the whole encoded frame
    size_t raw_size = 0;
};

// Control frames (HELLO with the client's name, ERROR text) may carry this
// many payload bytes whatever the message limit, so a tiny max_message_size
// never makes the conversation itself impossible.
constexpr uint32_t kControlPayloadMax = 4096;

// The one formula for "the largest frame": header, the longest channel name
// and the larger of the message and control payload limits, capped by the
// transport's own max_frame_size when it has one (0 = none). Hub, client and
// bench all size frames with it, so they agree on what may cross a transport.
uint32_t frame_limit(uint32_t max_message_size, uint32_t transport_max_frame = 0);

// The largest message payload that may be published or delivered over a
// transport: the hub's limit, or less when the transport's frames are
// smaller (room left for the header and the longest channel name).
uint32_t message_limit(uint32_t max_message_size, uint32_t transport_max_frame = 0);

// Channel names: [A-Za-z0-9._-], 1..IPCHUB_CHANNEL_MAX characters.
bool is_valid_channel(std::string_view name);
std::string channel_rule(); // the rule in words, for error messages

void encode_header(uint8_t *out, const FrameHeader &header);

enum class HeaderStatus { ok, malformed, too_large };
// Decodes and checks IPCHUB_FRAME_HEADER_SIZE bytes. `why` says what is wrong.
HeaderStatus decode_header(const uint8_t *in, uint32_t max_payload, FrameHeader &out, std::string *why);

// Appends one encoded frame to `out`.
void append_frame(ByteBuffer &out, uint8_t type, uint16_t flags, uint64_t id, std::string_view channel,
                  std::string_view payload);

// Fills `iov` (at most `max` entries) with the bytes of `buffer` to offer a
// transport: one iovec per frame when the transport keeps message boundaries
// (the buffer then always starts at a frame boundary), else one iovec for
// everything. Returns the number of entries; *offered gets their total size.
size_t frame_iovecs(const ByteBuffer &buffer, bool per_frame, struct iovec *iov, size_t max, size_t *offered);

// Small payload helpers for the fixed-layout frames.
void put_u32(uint8_t *out, uint32_t v);
uint32_t get_u32(const uint8_t *in);
std::string u32_payload(uint32_t value, std::string_view tail = {});

// Reassembles frames from a byte stream cut anywhere. Complete frames inside
// one fed chunk are handed out in place (no copy); only a frame split across
// chunks is copied into the reader's own buffer.
class FrameReader {
public:
    explicit FrameReader(uint32_t max_payload) : max_payload_(max_payload) {}

    // Calls on_frame(const FrameView&) for each complete frame. Returns false
    // (and stops) on a malformed or oversized header: error() says why and
    // error_code() is IPCHUB_ERR_MALFORMED or IPCHUB_ERR_TOO_LARGE; the
    // stream cannot be resynchronised after that.
    // An on_frame that returns bool stops the feed when it returns false:
    // consumed() then tells how many bytes of `data` were taken (the frames
    // handed out so far); the caller keeps the rest and feeds it later. The
    // hub uses this to stop reading a client at the exact frame whose answer
    // filled a backlog.
    template <typename OnFrame> bool feed(const void *data, size_t len, OnFrame &&on_frame);
    size_t consumed() const { return consumed_; } // bytes of `data` the last feed took

    // Frames read after this call are checked against the new limit (a client
    // learns its limit from the hub's HELLO answer).
    void set_max_payload(uint32_t max_payload) { max_payload_ = max_payload; }

    const std::string &error() const { return error_; }
    uint32_t error_code() const { return error_code_; }
    size_t pending() const { return partial_.size(); }

private:
    // Returns the size of the frame starting at p (needs a full header) or 0 on error.
    size_t frame_length(const uint8_t *p, FrameHeader &h);
    static FrameView view(const uint8_t *p, const FrameHeader &h);

    uint32_t max_payload_;
    ByteBuffer partial_;
    std::string error_;
    uint32_t error_code_ = 0;
    size_t consumed_ = 0;
};

template <typename OnFrame> bool FrameReader::feed(const void *data, size_t len, OnFrame &&on_frame) {
    consumed_ = 0;
    if (error_code_) return false;
    auto *p = static_cast<const uint8_t *>(data);
    const size_t total = len;
    // Hands out one frame; false when on_frame asked to stop.
    auto deliver = [&](const FrameView &view) {
        if constexpr (std::is_same_v<std::invoke_result_t<OnFrame &, const FrameView &>, bool>) {
            return on_frame(view);
        } else {
            on_frame(view);
            return true;
        }
    };
    FrameHeader h;
    // Finish a frame left over from an earlier chunk first.
    if (!partial_.empty()) {
        if (partial_.size() < IPCHUB_FRAME_HEADER_SIZE) {
            size_t take = std::min(len, IPCHUB_FRAME_HEADER_SIZE - partial_.size());
            partial_.append(p, take);
            p += take;
            len -= take;
            consumed_ = total - len;
            if (partial_.size() < IPCHUB_FRAME_HEADER_SIZE) return true;
        }
        size_t need = frame_length(partial_.data(), h);
        if (need == 0) return false;
        size_t take = std::min(len, need - partial_.size());
        partial_.append(p, take);
        p += take;
        len -= take;
        consumed_ = total - len;
        if (partial_.size() < need) return true;
        bool go_on = deliver(view(partial_.data(), h));
        partial_.clear();
        if (!go_on) return true;
    }
    while (len >= IPCHUB_FRAME_HEADER_SIZE) {
        size_t need = frame_length(p, h);
        if (need == 0) return false;
        if (len < need) break;
        bool go_on = deliver(view(p, h));
        p += need;
        len -= need;
        consumed_ = total - len;
        if (!go_on) return true;
    }
    partial_.append(p, len);
    consumed_ = total;
    return true;
}

} // namespace ipchub
