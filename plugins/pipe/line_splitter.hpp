// Cuts a child's stdout/stderr byte stream into log lines. A line longer
// than the limit is logged in pieces (a child printing megabytes without a
// newline must not grow the hub's memory); a last line without a newline is
// logged when the stream ends.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ipchub::pipe {

class LineSplitter {
public:
    static constexpr size_t kMaxLine = 4096;

    // Calls emit(std::string_view) once per complete line (without '\n').
    template <typename Emit> void feed(const char *data, size_t len, Emit &&emit) {
        std::string_view rest(data, len);
        while (!rest.empty()) {
            size_t nl = rest.find('\n');
            std::string_view piece = rest.substr(0, nl);
            if (partial_.size() + piece.size() > kMaxLine) { // overlong: log what fits
                size_t fits = kMaxLine - partial_.size();
                partial_.append(piece.substr(0, fits));
                emit_line(emit);
                rest.remove_prefix(fits);
                continue;
            }
            partial_.append(piece);
            if (nl == std::string_view::npos) return;
            emit_line(emit);
            rest.remove_prefix(nl + 1);
        }
    }

    // The stream ended: a last line without '\n' is still a line.
    template <typename Emit> void finish(Emit &&emit) {
        if (!partial_.empty()) emit_line(emit);
    }

private:
    template <typename Emit> void emit_line(Emit &emit) {
        if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
        emit(std::string_view(partial_));
        partial_.clear();
    }
    std::string partial_;
};

} // namespace ipchub::pipe
