// tests/fuzz/config_fuzz.cpp — libFuzzer target for the config path: strict JSON parsing (depth bound,
// duplicate keys, comments) and validation of the result against the training and classifier schemas.
// Property: any input is accepted, or rejected with st::Error exit 2 whose message is bounded in size;
// another exception, a crash, a stack overflow or a sanitizer report is a bug. Built and run by scripts/fuzz.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "common/check.h"
#include "common/json_file.h"
#include "trainer/config.h"

namespace {
void expect_bad_input(const st::Error& e) {
  if (e.code() != st::ExitCode::bad_input) std::abort();
  if (std::string(e.what()).size() > 4096) std::abort();  // messages quote excerpts, never whole values
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::string error;
  (void)st::try_parse_json(text, error);
  nlohmann::json parsed;
  try {
    parsed = st::parse_json(text, "fuzz.json", /*allow_comments=*/true);
  } catch (const st::Error& e) {
    expect_bad_input(e);
    return 0;
  }
  for (const auto* schema : {&st::config_schema(), &st::classifier_config_schema()}) {
    try {
      const auto config = st::Config::from_resolved(parsed, "fuzz.json", *schema);
      (void)st::describe_config_defaults(*schema);
      (void)config.resolved().dump();
    } catch (const st::Error& e) {
      expect_bad_input(e);
    }
  }
  return 0;
}
