// common/provenance.h — what a run records about how it was made: the source version the program was built
// from, the command line it was started with, when, and on which CPU (the manifest keeps them).
#pragma once

#include <string>
#include <vector>

namespace st {

// `git describe --always --dirty` of the source tree at build time, or "unknown" outside git.
const char* source_version();

// The process's argv, as main() received it; empty until main() records it.
void record_command_line(int argc, const char* const* argv);
const std::vector<std::string>& command_line();

// The current UTC time as ISO 8601, to the second: "2026-12-01T23:40:59Z".
std::string utc_now();

// The CPU's model name from /proc/cpuinfo ("unknown" where there is none): CPU results round differently
// on other instruction sets, so a run records where it ran.
std::string cpu_model();

}  // namespace st
