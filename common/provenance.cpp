// common/provenance.cpp — the build's source version, the process's command line, the time.
#include "common/provenance.h"

#include <ctime>

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

}  // namespace st
