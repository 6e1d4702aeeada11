// The FIFO transport's rendezvous: the names of its FIFOs and the one
// fixed-size record a client writes to the registration FIFO.
//
// Header-only and free of plugin state, so the unit tests (and an integration
// test that plays a misbehaving client) use exactly the format the plugin uses.
#pragma once

#include <limits.h> // PIPE_BUF
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ipchub::fifo {

// Every FIFO of the plugin starts with this prefix, so cleanup and sweep can
// tell them from the other files of the instance directory.
inline constexpr std::string_view kPrefix = "fifo.";
// The well-known FIFO the hub reads registrations from.
inline constexpr std::string_view kRegisterName = "fifo.register";
inline constexpr std::string_view kUpSuffix = ".up";     // client -> hub
inline constexpr std::string_view kDownSuffix = ".down"; // hub -> client

// A registration record: "IHFR", version, size, pid, serial, nonce, reserved.
// Little-endian. Far below PIPE_BUF, so a write of one record is atomic and
// records of concurrent clients never interleave; every record has the same
// size, so the hub always reads whole records.
inline constexpr size_t kRecordSize = 32;
inline constexpr uint16_t kRecordVersion = 1;
inline constexpr char kRecordMagic[4] = {'I', 'H', 'F', 'R'};
static_assert(kRecordSize <= PIPE_BUF, "a registration must be written atomically");

// The nonce travels as the first 8 bytes in both directions once the FIFOs
// are open: hub -> client as "registration accepted", client -> hub as "both
// ends are open". Neither reaches the frame stream.
inline constexpr size_t kTokenSize = 8;

struct Registration {
    uint32_t pid = 0;    // the client process (the hub watches it with a pidfd)
    uint32_t serial = 0; // per-process counter: one pid may connect many times
    uint64_t nonce = 0;
};

namespace detail {
inline void put_le(unsigned char *p, uint64_t v, size_t bytes) {
    for (size_t i = 0; i < bytes; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline uint64_t get_le(const unsigned char *p, size_t bytes) {
    uint64_t v = 0;
    for (size_t i = 0; i < bytes; ++i) v |= uint64_t(p[i]) << (8 * i);
    return v;
}
} // namespace detail

inline void encode(const Registration &r, unsigned char out[kRecordSize]) {
    std::memset(out, 0, kRecordSize);
    std::memcpy(out, kRecordMagic, 4);
    detail::put_le(out + 4, kRecordVersion, 2);
    detail::put_le(out + 6, kRecordSize, 2);
    detail::put_le(out + 8, r.pid, 4);
    detail::put_le(out + 12, r.serial, 4);
    detail::put_le(out + 16, r.nonce, 8);
}

// False when `in` is not a record of this version (garbage or a newer client).
inline bool decode(const unsigned char in[kRecordSize], Registration &r) {
    if (std::memcmp(in, kRecordMagic, 4) != 0) return false;
    if (detail::get_le(in + 4, 2) != kRecordVersion || detail::get_le(in + 6, 2) != kRecordSize) return false;
    r.pid = uint32_t(detail::get_le(in + 8, 4));
    r.serial = uint32_t(detail::get_le(in + 12, 4));
    r.nonce = detail::get_le(in + 16, 8);
    return r.pid != 0 && r.pid <= uint32_t(INT32_MAX);
}

inline void encode_token(uint64_t nonce, unsigned char out[kTokenSize]) { detail::put_le(out, nonce, kTokenSize); }

inline std::string register_path(const std::string &dir) { return dir + "/" + std::string(kRegisterName); }

// "<dir>/fifo.<pid>.<serial>": the client's two FIFOs are this plus kUpSuffix
// and kDownSuffix. The hub builds the names from the record's numbers, never
// from text a client sent, so a record cannot point it at another file.
inline std::string client_base(const std::string &dir, uint32_t pid, uint32_t serial) {
    return dir + "/" + std::string(kPrefix) + std::to_string(pid) + "." + std::to_string(serial);
}

enum class NameKind { other, register_fifo, client_fifo };

// Classifies a file name of the instance directory; for a client FIFO also
// returns the pid and serial in its name.
inline NameKind classify(std::string_view name, uint32_t *pid = nullptr, uint32_t *serial = nullptr) {
    if (name == kRegisterName) return NameKind::register_fifo;
    if (name.substr(0, kPrefix.size()) != kPrefix) return NameKind::other;
    name.remove_prefix(kPrefix.size());
    auto number = [&](uint32_t *out) {
        size_t n = 0;
        uint64_t v = 0;
        while (n < name.size() && n < 10 && name[n] >= '0' && name[n] <= '9') v = v * 10 + uint64_t(name[n++] - '0');
        if (n == 0 || v > UINT32_MAX) return false;
        if (out) *out = uint32_t(v);
        name.remove_prefix(n);
        return true;
    };
    if (!number(pid) || name.empty() || name[0] != '.') return NameKind::other;
    name.remove_prefix(1);
    if (!number(serial)) return NameKind::other;
    return (name == kUpSuffix || name == kDownSuffix) ? NameKind::client_fifo : NameKind::other;
}

} // namespace ipchub::fifo
