#include "payload.hpp"

#include <time.h>

#include <cstring>

namespace bench {

namespace {
constexpr size_t kChecksumOffset = 24;
constexpr size_t kVaryingWordStride = 64; // every 64th word (512 bytes) depends on seq

// Position-dependent sum of 64-bit words (each word multiplied by an odd
// number derived from its index, so swapped or shifted words change the sum),
// mixed with the length. The checksum field itself counts as zero.
uint64_t checksum(const uint8_t *p, size_t len) {
    uint64_t h = 0x9e3779b97f4a7c15ull ^ len;
    size_t words = len / 8;
    for (size_t i = 0; i < words; ++i) {
        if (i == kChecksumOffset / 8) continue;
        uint64_t w;
        std::memcpy(&w, p + i * 8, 8);
        h += w * (2 * i + 1);
    }
    for (size_t i = words * 8; i < len; ++i) h += uint64_t(p[i]) * (0x100000001b3ull + i);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 32);
}
} // namespace

uint64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

Stamper::Stamper(size_t size) : buffer_(size < kStampSize ? kStampSize : size) {
    for (size_t i = kStampSize; i < buffer_.size(); ++i) buffer_[i] = uint8_t(i * 131 + 7);
}

std::string_view Stamper::make(const Stamp &s) {
    uint8_t *p = buffer_.data();
    uint8_t kind = uint8_t(s.kind), pad = 0;
    std::memcpy(p, &kMagic, 4);
    std::memcpy(p + 4, &kind, 1);
    std::memcpy(p + 5, &pad, 1);
    std::memcpy(p + 6, &s.from, 2);
    std::memcpy(p + 8, &s.seq, 8);
    std::memcpy(p + 16, &s.sent_ns, 8);
    size_t words = buffer_.size() / 8;
    for (size_t i = kVaryingWordStride; i < words; i += kVaryingWordStride) {
        uint64_t w = s.seq * 0x2545f4914f6cdd1dull + i;
        std::memcpy(p + i * 8, &w, 8);
    }
    uint64_t sum = checksum(p, buffer_.size());
    std::memcpy(p + kChecksumOffset, &sum, 8);
    return {reinterpret_cast<const char *>(p), buffer_.size()};
}

Check read_stamp(const void *data, size_t len, Stamp &out) {
    auto *p = static_cast<const uint8_t *>(data);
    if (len < kStampSize) return Check::short_message;
    uint32_t magic;
    std::memcpy(&magic, p, 4);
    if (magic != kMagic) return Check::bad_magic;
    uint64_t sum;
    std::memcpy(&sum, p + kChecksumOffset, 8);
    if (sum != checksum(p, len)) return Check::bad_checksum;
    uint8_t kind;
    std::memcpy(&kind, p + 4, 1);
    out.kind = Kind(kind);
    std::memcpy(&out.from, p + 6, 2);
    std::memcpy(&out.seq, p + 8, 8);
    std::memcpy(&out.sent_ns, p + 16, 8);
    return Check::ok;
}

void SequenceTracker::add(uint64_t seq) {
    if (seq >= seen_.size()) {
        ++out_of_range_;
        return;
    }
    if (seen_[seq]) {
        ++duplicated_;
        return;
    }
    seen_[seq] = 1;
    ++received_;
    if (seq < next_expected_) ++out_of_order_; // a later message overtook this one
    else next_expected_ = seq + 1;
}

} // namespace bench
