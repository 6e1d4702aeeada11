#include "cli_common.hpp"

#include <cstdio>

namespace ipchub::apps {

int report(const char *tool, const std::exception &e) {
    std::fprintf(stderr, "%s: %s\n", tool, e.what());
    if (auto *err = dynamic_cast<const Error *>(&e)) {
        switch (err->kind()) {
        case Error::Kind::invalid:
        case Error::Kind::config:
        case Error::Kind::backend:
            return 2;
        case Error::Kind::no_hub:
            return 3;
        default:
            return 1;
        }
    }
    return 1;
}

} // namespace ipchub::apps
