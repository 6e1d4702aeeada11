// Which runs one invocation makes: raw runs per backend and size, hub runs
// per backend (same backend both sides) and per mixed pair. Backends that are
// listed but not loadable become "skipped" entries instead of runs.
#pragma once

#include "backends.hpp"
#include "options.hpp"
#include "run.hpp"

#include <vector>

namespace bench {

struct Plan {
    std::vector<RunSpec> runs;
    std::vector<RunResult> skipped; // backends that cannot be measured, with the reason
};

// Throws std::invalid_argument for a backend plugins.json does not know.
Plan make_plan(const Options &o, const Installation &inst);

} // namespace bench
