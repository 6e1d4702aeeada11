#include "frame.hpp"

#include <cstring>

namespace ipchub {

namespace {

void put_u16(uint8_t *out, uint16_t v) {
    out[0] = uint8_t(v);
    out[1] = uint8_t(v >> 8);
}
uint16_t get_u16(const uint8_t *in) { return uint16_t(in[0] | (in[1] << 8)); }
void put_u64(uint8_t *out, uint64_t v) {
    for (int i = 0; i < 8; ++i) out[i] = uint8_t(v >> (8 * i));
}
uint64_t get_u64(const uint8_t *in) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | in[i];
    return v;
}

} // namespace

void put_u32(uint8_t *out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out[i] = uint8_t(v >> (8 * i));
}
uint32_t get_u32(const uint8_t *in) {
    return uint32_t(in[0]) | uint32_t(in[1]) << 8 | uint32_t(in[2]) << 16 | uint32_t(in[3]) << 24;
}

std::string u32_payload(uint32_t value, std::string_view tail) {
    std::string out(4, '\0');
    put_u32(reinterpret_cast<uint8_t *>(out.data()), value);
    out.append(tail);
    return out;
}

bool is_valid_channel(std::string_view name) {
    if (name.empty() || name.size() > IPCHUB_CHANNEL_MAX) return false;
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

std::string channel_rule() {
    return "1 to " + std::to_string(IPCHUB_CHANNEL_MAX) + " characters from A-Z a-z 0-9 . _ -";
}

uint32_t frame_limit(uint32_t max_message_size, uint32_t transport_max_frame) {
    uint64_t frame = uint64_t(IPCHUB_FRAME_HEADER_SIZE) + IPCHUB_CHANNEL_MAX + std::max(max_message_size, kControlPayloadMax);
    if (transport_max_frame) frame = std::min<uint64_t>(frame, transport_max_frame);
    return uint32_t(std::min<uint64_t>(frame, UINT32_MAX));
}

uint32_t message_limit(uint32_t max_message_size, uint32_t transport_max_frame) {
    if (!transport_max_frame) return max_message_size;
    constexpr uint32_t overhead = IPCHUB_FRAME_HEADER_SIZE + IPCHUB_CHANNEL_MAX;
    return transport_max_frame > overhead ? std::min(max_message_size, transport_max_frame - overhead) : 0;
}

void encode_header(uint8_t *out, const FrameHeader &h) {
    put_u16(out + 0, IPCHUB_PROTOCOL_MAGIC);
    out[2] = IPCHUB_PROTOCOL_VERSION;
    out[3] = h.type;
    put_u16(out + 4, h.flags);
    put_u16(out + 6, h.channel_len);
    put_u32(out + 8, h.payload_len);
    put_u32(out + 12, 0);
    put_u64(out + 16, h.id);
}

HeaderStatus decode_header(const uint8_t *in, uint32_t max_payload, FrameHeader &out, std::string *why) {
    auto fail = [&](HeaderStatus s, std::string text) {
        if (why) *why = std::move(text);
        return s;
    };
    if (get_u16(in) != IPCHUB_PROTOCOL_MAGIC) return fail(HeaderStatus::malformed, "bad magic (not an ipchub frame)");
    if (in[2] != IPCHUB_PROTOCOL_VERSION)
        return fail(HeaderStatus::malformed, "protocol version " + std::to_string(in[2]) + ", this side speaks " +
                                                 std::to_string(IPCHUB_PROTOCOL_VERSION));
    out.type = in[3];
    if (out.type < IPCHUB_HELLO || out.type > IPCHUB_GAP)
        return fail(HeaderStatus::malformed, "unknown frame type " + std::to_string(out.type));
    out.flags = get_u16(in + 4);
    out.channel_len = get_u16(in + 6);
    out.payload_len = get_u32(in + 8);
    out.id = get_u64(in + 16);
    if (get_u32(in + 12) != 0) return fail(HeaderStatus::malformed, "reserved header bits set");
    if (out.channel_len > IPCHUB_CHANNEL_MAX)
        return fail(HeaderStatus::malformed, "channel name of " + std::to_string(out.channel_len) +
                                                 " bytes (at most " + std::to_string(IPCHUB_CHANNEL_MAX) + ")");
    if (out.payload_len > max_payload)
        return fail(HeaderStatus::too_large, "message of " + std::to_string(out.payload_len) +
                                                 " bytes exceeds the limit of " + std::to_string(max_payload) +
                                                 " bytes");
    return HeaderStatus::ok;
}

void append_frame(ByteBuffer &out, uint8_t type, uint16_t flags, uint64_t id, std::string_view channel,
                  std::string_view payload) {
    FrameHeader h;
    h.type = type;
    h.flags = flags;
    h.id = id;
    h.channel_len = uint16_t(channel.size());
    h.payload_len = uint32_t(payload.size());
    uint8_t *p = out.prepare(h.frame_size());
    encode_header(p, h);
    if (!channel.empty()) std::memcpy(p + IPCHUB_FRAME_HEADER_SIZE, channel.data(), channel.size());
    if (!payload.empty()) std::memcpy(p + IPCHUB_FRAME_HEADER_SIZE + channel.size(), payload.data(), payload.size());
    out.commit(h.frame_size());
}

size_t frame_iovecs(const ByteBuffer &buffer, bool per_frame, struct iovec *iov, size_t max, size_t *offered) {
    const uint8_t *p = buffer.data();
    size_t left = buffer.size();
    *offered = 0;
    if (left == 0 || max == 0) return 0;
    if (!per_frame) {
        iov[0] = iovec{const_cast<uint8_t *>(p), left};
        *offered = left;
        return 1;
    }
    size_t n = 0;
    while (left >= IPCHUB_FRAME_HEADER_SIZE && n < max) {
        FrameHeader h;
        decode_header(p, UINT32_MAX, h, nullptr);
        size_t size = h.frame_size();
        iov[n++] = iovec{const_cast<uint8_t *>(p), size};
        p += size;
        left -= size;
        *offered += size;
    }
    return n;
}

size_t FrameReader::frame_length(const uint8_t *p, FrameHeader &h) {
    switch (decode_header(p, max_payload_, h, &error_)) {
    case HeaderStatus::ok:
        return h.frame_size();
    case HeaderStatus::malformed:
        error_code_ = IPCHUB_ERR_MALFORMED;
        return 0;
    case HeaderStatus::too_large:
        error_code_ = IPCHUB_ERR_TOO_LARGE;
        return 0;
    }
    return 0;
}

FrameView FrameReader::view(const uint8_t *p, const FrameHeader &h) {
    FrameView v;
    v.header = h;
    v.raw = p;
    v.raw_size = h.frame_size();
    auto *chars = reinterpret_cast<const char *>(p + IPCHUB_FRAME_HEADER_SIZE);
    v.channel = std::string_view(chars, h.channel_len);
    v.payload = std::string_view(chars + h.channel_len, h.payload_len);
    return v;
}

} // namespace ipchub
