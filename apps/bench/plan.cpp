#include "plan.hpp"

#include <algorithm>
#include <stdexcept>

namespace bench {

Plan make_plan(const Options &o, const Installation &inst) {
    Plan plan;
    auto known = [&](const std::string &name) {
        if (!inst.find(name))
            throw std::invalid_argument("unknown backend '" + name + "' (plugins.json " + inst.config_path + " enables: " +
                                        [&] {
                                            std::string s;
                                            for (auto &b : inst.backends) s += (s.empty() ? "" : ", ") + b.name;
                                            return s;
                                        }() + ")");
        return inst.find(name);
    };
    std::vector<std::string> names = o.backends;
    if (names.empty())
        for (auto &b : inst.backends) names.push_back(b.name);
    std::vector<std::string> usable;
    for (auto &n : names) {
        const Backend *b = known(n);
        if (b->available) {
            if (std::find(usable.begin(), usable.end(), n) == usable.end()) usable.push_back(n);
            continue;
        }
        RunResult r;
        r.spec.mode = o.mode == "both" ? "raw+hub" : o.mode;
        r.spec.publisher = r.spec.subscriber = n;
        r.status = Status::skipped;
        r.reason = "not available: " + b->why_not;
        plan.skipped.push_back(r);
    }
    auto add = [&](const char *mode, const std::string &pub, const std::string &sub, unsigned subscribers) {
        for (uint64_t size : o.sizes) {
            RunSpec s;
            s.mode = mode;
            s.publisher = pub;
            s.subscriber = sub;
            s.subscribers = subscribers;
            s.size = size;
            s.messages = o.messages ? o.messages : default_messages(size);
            s.pings = o.pings;
            plan.runs.push_back(s);
        }
    };
    bool raw = o.mode != "hub", hub = o.mode != "raw";
    if (raw)
        for (auto &n : usable) add("raw", n, n, 1);
    if (hub) {
        for (auto &n : usable) add("hub", n, n, o.subscribers);
        std::vector<std::string> pairs = o.pairs;
        if (o.default_pairs) pairs = {"socket:shm", "shm:socket"};
        for (auto &p : pairs) {
            std::string pub = p.substr(0, p.find(':')), sub = p.substr(p.find(':') + 1);
            if (pub == sub) continue; // already measured above
            if (o.default_pairs) { // defaults apply only to the backends selected and available
                if (std::count(usable.begin(), usable.end(), pub) && std::count(usable.begin(), usable.end(), sub))
                    add("hub", pub, sub, o.subscribers);
                continue;
            }
            if (!known(pub)->available || !known(sub)->available) {
                RunResult r;
                r.spec.mode = "hub";
                r.spec.publisher = pub;
                r.spec.subscriber = sub;
                r.spec.subscribers = o.subscribers;
                r.status = Status::skipped;
                r.reason = "needs both backends available";
                plan.skipped.push_back(r);
                continue;
            }
            add("hub", pub, sub, o.subscribers);
        }
    }
    return plan;
}

} // namespace bench
