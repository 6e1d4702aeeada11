#include "context.hpp"

#include "process.hpp"

namespace bench {

std::vector<std::string> Context::worker_args(const std::string &role, const std::string &backend,
                                              const RunSpec &spec) const {
    const Options &o = *options;
    return {self,
            "--worker", role,
            "--backend", backend,
            "--config", installation.config_path,
            "--plugin-dir", installation.plugin_dir,
            "--messages", std::to_string(spec.messages),
            "--pings", std::to_string(o.pings),
            "--subscribers", std::to_string(o.subscribers),
            "--timeout", std::to_string(o.timeout_s),
            "--worker-size", std::to_string(spec.size)};
}

std::string log_tail(const std::string &path, size_t lines) {
    std::string text = read_text(path);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    size_t pos = text.size();
    for (size_t n = 0; n < lines && pos != std::string::npos && pos > 0; ++n) pos = text.rfind('\n', pos - 1);
    std::string tail = (pos == std::string::npos || pos == 0) ? text : text.substr(pos + 1);
    for (auto &c : tail)
        if (c == '\n') c = '|';
    return tail.empty() ? "(no output)" : tail;
}

} // namespace bench
