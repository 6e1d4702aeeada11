#include "run.hpp"

namespace bench {

std::string RunSpec::mechanism() const {
    if (mode == "raw") return publisher + " (raw)";
    std::string m = publisher + "->hub->" + subscriber;
    if (subscribers > 1) m += " x" + std::to_string(subscribers);
    return m;
}

const char *status_name(Status s) {
    switch (s) {
    case Status::ok: return "ok";
    case Status::failed: return "FAILED";
    case Status::skipped: return "skipped";
    }
    return "?";
}

void RunResult::judge() {
    if (status != Status::ok || clean()) return;
    status = Status::failed;
    reason = std::to_string(lost) + " lost, " + std::to_string(duplicated) + " duplicated, " +
             std::to_string(out_of_order) + " out of order, " + std::to_string(corrupt) + " corrupt";
}

} // namespace bench
