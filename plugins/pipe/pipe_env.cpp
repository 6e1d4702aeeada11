#include "pipe_env.hpp"

namespace ipchub::pipe {

namespace {
bool parse_number(const std::string &text, size_t begin, size_t end, uint64_t &out) {
    if (begin >= end || end - begin > 19) return false; // 19 digits always fit in 64 bits
    uint64_t v = 0;
    for (size_t i = begin; i < end; ++i) {
        if (text[i] < '0' || text[i] > '9') return false;
        v = v * 10 + uint64_t(text[i] - '0');
    }
    out = v;
    return true;
}
} // namespace

bool parse_number_pair(const std::string &text, uint64_t &first, uint64_t &second) {
    size_t comma = text.find(',');
    if (comma == std::string::npos) return false;
    return parse_number(text, 0, comma, first) && parse_number(text, comma + 1, text.size(), second);
}

} // namespace ipchub::pipe
