// What myipcbench prints and writes: the table (the seed's "Mechanism
// Throughput  Latency (avg)" columns first), skipped and failed runs, the
// recommendation drawn from the figures measured, and JSON / CSV files.
#pragma once

#include "backends.hpp"
#include "options.hpp"
#include "run.hpp"

#include <cstdio>
#include <string>
#include <vector>

namespace bench {

void print_table(std::FILE *out, const std::vector<RunResult> &runs);
void print_recommendation(std::FILE *out, const std::vector<RunResult> &runs, const Installation &inst);

// Throw std::runtime_error when the file cannot be written.
void write_json(const std::string &path, const std::vector<RunResult> &runs, const Options &o);
void write_csv(const std::string &path, const std::vector<RunResult> &runs);

std::string human_size(uint64_t bytes); // "64 B", "1 KiB", "1.5 MiB"

} // namespace bench
