// Reporting an error across the plugin ABI: a negative errno as the return
// value plus one human-readable line in the caller's `err` buffer.
#pragma once

#include <cstdarg>
#include <cstddef>
#include <cstdio>

namespace ipchub::plugin {

// Writes a printf-style message into a plugin ABI error buffer and returns
// `code` (a negative errno), so `return format_error(...)` reads naturally.
// `err` may be NULL or `err_len` 0: then only `code` is returned.
inline int format_error(char *err, size_t err_len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
inline int format_error(char *err, size_t err_len, int code, const char *fmt, ...) {
    if (err && err_len) {
        va_list ap;
        va_start(ap, fmt);
        std::vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

} // namespace ipchub::plugin
