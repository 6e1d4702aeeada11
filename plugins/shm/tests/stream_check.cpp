#include "stream_check.hpp"

#include <cstring>
#include <random>
#include <vector>

namespace shmcheck {

namespace shm = ipchub::shm;

namespace {

constexpr int kSliceMs = 200;
constexpr int kStallMs = 10000;
constexpr size_t kMessageHeader = 4 + 8 + 8; // u32 payload length, u64 sequence, u64 checksum

uint64_t checksum(const uint8_t *p, size_t n, uint64_t seq) {
    uint64_t h = 0x9e3779b97f4a7c15ull ^ seq;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        std::memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    for (; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
    return h ^ n;
}

// Payload bytes derived from the sequence number.
void fill(uint8_t *p, size_t n, uint64_t seq) {
    uint64_t x = seq * 0x2545f4914f6cdd1dull + 1;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        std::memcpy(p + i, &x, 8);
    }
    for (; i < n; ++i) p[i] = uint8_t(x >> (8 * (i & 7)));
}

size_t pick_size(std::mt19937_64 &rng, size_t max) {
    unsigned bits = unsigned(rng() % 17); // log-uniform: as many tiny as huge messages
    size_t span = size_t(1) << bits;
    size_t n = 1 + size_t(rng() % span);
    return n > max ? max : n;
}

void put(uint8_t *p, uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) p[i] = uint8_t(v >> (8 * i));
}
uint64_t get(const uint8_t *p, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t(p[i]) << (8 * i);
    return v;
}

// Waits (really sleeping) until `ready()`; "" or a reason.
template <typename Ready>
std::string wait_producer(shm::Ring &ring, size_t need, Ready ready, long long &stalled) {
    while (!ready()) {
        if (ring.producer_prepare_sleep(need)) {
            int rc = shm::sem_wait_ms(&ring.header()->spaces, kSliceMs);
            ring.producer_cancel_sleep();
            if (rc < 0) return "sem_wait: " + std::string(std::strerror(-rc));
            if (rc == 0 && (stalled += kSliceMs) > kStallMs) return "producer: no space for 10 s (consumer dead?)";
        }
    }
    return "";
}

} // namespace

std::string produce(shm::Ring &ring, const Options &o) {
    std::mt19937_64 rng(o.seed);
    std::vector<uint8_t> msg(kMessageHeader + o.max_size);
    for (uint64_t seq = 0; seq < o.messages; ++seq) {
        size_t n = pick_size(rng, o.max_size);
        fill(msg.data() + kMessageHeader, n, seq);
        put(msg.data(), n, 4);
        put(msg.data() + 4, seq, 8);
        put(msg.data() + 12, checksum(msg.data() + kMessageHeader, n, seq), 8);
        size_t total = kMessageHeader + n, sent = 0;
        long long stalled = 0;
        while (sent < total) {
            iovec iov{msg.data() + sent, total - sent};
            int64_t w = o.mode == Mode::record ? ring.try_write(&iov, 1) : ring.write_stream(&iov, 1);
            if (w < 0) return "producer: write failed: " + std::string(std::strerror(int(-w)));
            if (w > 0) {
                sent += size_t(w);
                stalled = 0;
                if (ring.consumer_needs_wake()) sem_post(&ring.header()->items);
                continue;
            }
            size_t need = o.mode == Mode::record ? shm::kRecordHeader + total : shm::kRecordHeader + 1;
            std::string e = wait_producer(ring, need, [&] {
                int64_t f = ring.free_space();
                return f < 0 || size_t(f) >= need;
            }, stalled);
            if (!e.empty()) return e;
        }
    }
    return "";
}

std::string consume(shm::Ring &ring, const Options &o, uint64_t *bytes) {
    std::vector<uint8_t> buf(kMessageHeader + o.max_size + 256 * 1024);
    size_t have = 0; // stream mode: bytes of unparsed messages in buf
    uint64_t seq = 0;
    long long stalled = 0;
    std::mt19937_64 cuts(o.seed ^ 0xabcdef);
    *bytes = 0;
    auto check = [&](const uint8_t *m, size_t len) -> std::string {
        if (len < kMessageHeader) return "message " + std::to_string(seq) + " is too short";
        size_t n = size_t(get(m, 4));
        uint64_t s = get(m + 4, 8);
        if (s != seq) return "expected message " + std::to_string(seq) + ", got " + std::to_string(s);
        if (kMessageHeader + n != len) return "message " + std::to_string(seq) + " has the wrong length";
        if (get(m + 12, 8) != checksum(m + kMessageHeader, n, s))
            return "message " + std::to_string(seq) + " is corrupt (checksum)";
        ++seq;
        *bytes += n;
        return "";
    };
    while (seq < o.messages) {
        int64_t r;
        if (o.mode == Mode::record) {
            r = ring.read_record(buf.data(), buf.size());
            if (r > 0) {
                std::string e = check(buf.data(), size_t(r));
                if (!e.empty()) return e;
            }
        } else {
            // Random read sizes exercise reads that end inside a record.
            size_t room = buf.size() - have;
            size_t cap = 1 + size_t(cuts() % room);
            r = ring.read_stream(buf.data() + have, cap);
            if (r > 0) {
                have += size_t(r);
                size_t at = 0;
                while (have - at >= kMessageHeader) {
                    size_t len = kMessageHeader + size_t(get(buf.data() + at, 4));
                    if (len > kMessageHeader + o.max_size) return "message " + std::to_string(seq) + ": impossible length";
                    if (have - at < len) break;
                    std::string e = check(buf.data() + at, len);
                    if (!e.empty()) return e;
                    at += len;
                }
                std::memmove(buf.data(), buf.data() + at, have - at);
                have -= at;
            }
        }
        if (r < 0) return "consumer: read failed: " + std::string(std::strerror(int(-r)));
        if (r > 0) {
            stalled = 0;
            if (ring.producer_needs_wake()) sem_post(&ring.header()->spaces);
            continue;
        }
        if (ring.consumer_prepare_sleep()) {
            int rc = shm::sem_wait_ms(&ring.header()->items, kSliceMs);
            ring.consumer_cancel_sleep();
            if (rc < 0) return "sem_wait: " + std::string(std::strerror(-rc));
            if (rc == 0 && (stalled += kSliceMs) > kStallMs)
                return "consumer: nothing for 10 s after message " + std::to_string(seq) + " (producer dead?)";
        }
    }
    if (!ring.empty()) return "consumer: data after the last message (duplicates?)";
    return "";
}

bool parse_args(int argc, char **argv, Options &o, std::string &err) {
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (i + 1 >= argc) {
            err = "missing value for " + a;
            return false;
        }
        std::string v = argv[++i];
        if (a == "--mode" && (v == "record" || v == "stream"))
            o.mode = v == "record" ? Mode::record : Mode::stream;
        else if (a == "--messages")
            o.messages = std::stoull(v);
        else if (a == "--seed")
            o.seed = std::stoull(v);
        else if (a == "--max-size")
            o.max_size = std::stoull(v);
        else {
            err = "usage: [--mode record|stream] [--messages N] [--seed S] [--max-size BYTES]";
            return false;
        }
    }
    return true;
}

} // namespace shmcheck
