// The benchmark's message: a 32-byte stamp (magic, kind, sequence number,
// CLOCK_MONOTONIC send time, checksum) followed by a body that fills the
// message to the requested size. The receiver recomputes the checksum, so a
// message that arrives truncated, garbled or mixed with another one is counted
// as corrupt instead of being timed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace bench {

constexpr size_t kStampSize = 32; // smallest message the benchmark can send
constexpr uint32_t kMagic = 0x48434e42u; // "BNCH"

enum class Kind : uint8_t {
    ping = 1, // latency probe: the receiver answers before the next is sent
    data = 2, // throughput stream
    end = 3,  // after the stream: seq = how many data messages were sent
    pong = 4, // the receiver's answer to a ping or an end
    warm = 5, // warm-up stream before the pings: counted, checked, never timed
};

// Nanoseconds of CLOCK_MONOTONIC: one clock for every process on the host,
// so a receiver can subtract a sender's stamp.
uint64_t now_ns();

struct Stamp {
    Kind kind = Kind::data;
    uint16_t from = 0; // sender's index (subscribers answering pings)
    uint64_t seq = 0;
    uint64_t sent_ns = 0;
};

// Builds messages of one size. The body is filled once; per message only the
// stamp and one word every 512 bytes (derived from seq, so bodies of
// different messages differ) are rewritten, then the checksum is computed
// over everything. Cheap enough not to hide the transport's cost.
class Stamper {
public:
    explicit Stamper(size_t size);
    // Returns the message (valid until the next call).
    std::string_view make(const Stamp &stamp);
    size_t size() const { return buffer_.size(); }

private:
    std::vector<uint8_t> buffer_;
};

enum class Check { ok, short_message, bad_magic, bad_checksum };

// Reads and verifies a message; `out` is filled when the result is ok.
Check read_stamp(const void *data, size_t len, Stamp &out);

// Counts what arrived of a stream of `expected` data messages numbered
// 0..expected-1: duplicates, messages that came after a later one, and (once
// the stream is over) the ones that never came.
class SequenceTracker {
public:
    explicit SequenceTracker(uint64_t expected) : seen_(expected, 0) {}
    void add(uint64_t seq);
    uint64_t received() const { return received_; }
    uint64_t duplicated() const { return duplicated_; }
    uint64_t out_of_order() const { return out_of_order_; }
    uint64_t out_of_range() const { return out_of_range_; }
    uint64_t lost() const { return seen_.size() - received_; }

private:
    std::vector<uint8_t> seen_;
    uint64_t received_ = 0, duplicated_ = 0, out_of_order_ = 0, out_of_range_ = 0;
    uint64_t next_expected_ = 0;
};

} // namespace bench
