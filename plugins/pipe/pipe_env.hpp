// The environment contract between the hub and a child (see
// docs/transports/pipe.md): IPCHUB_PIPE_FDS="<read_fd>,<write_fd>" names the
// inherited pipe ends; IPCHUB_PIPE_INODES="<read_ino>,<write_ino>" names the
// pipes themselves, so a descriptor number that was closed and reused (a
// grandchild that inherited the variable but not the pipes) is recognised.
// Pure parsing, unit-tested.
#pragma once

#include <cstdint>
#include <string>

namespace ipchub::pipe {

constexpr const char *kPipeFdsVar = "IPCHUB_PIPE_FDS";
constexpr const char *kPipeInodesVar = "IPCHUB_PIPE_INODES";

// Parses "A,B" of two non-negative decimal numbers (no sign, no spaces,
// nothing after). Returns false when malformed.
bool parse_number_pair(const std::string &text, uint64_t &first, uint64_t &second);

} // namespace ipchub::pipe
