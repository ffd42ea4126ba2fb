// common/provenance.cpp — the build's source version, the process's command line, the time, the CPU.
#include "common/provenance.h"

#include <ctime>
#include <fstream>

#include "source_version.h"  // generated in the build folder by cmake/source_version.cmake

namespace st {

const char* source_version() { return SAFETUNE_SOURCE_VERSION; }

namespace {
std::vector<std::string>& args() {
  static std::vector<std::string> a;
  return a;
}
}  // namespace

void record_command_line(int argc, const char* const* argv) { args().assign(argv, argv + argc); }
const std::vector<std::string>& command_line() { return args(); }

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon != std::string::npos && colon + 2 <= line.size()) return line.substr(colon + 2);
  }
  return "unknown";
}

}  // namespace st
