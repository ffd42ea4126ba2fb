// tests/fuzz/safetensors_header_fuzz.cpp — libFuzzer target for the safetensors header parser.
// Property: any input is either rejected with st::Error (the exit-2 path) or yields tensors that all lie
// inside the input and tile the data section exactly. Anything else (another exception, a crash, an ASan
// report, an assertion below) is a bug. Built and run by scripts/fuzz, not by ctest.
#include <cstdint>
#include <cstdlib>

#include "common/check.h"
#include "models/safetensors_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace st::safetensors;
  Header header;
  try {
    header = parse_header(data, size, "fuzz-input");
  } catch (const st::Error& e) {
    if (e.code() != st::ExitCode::bad_input) std::abort();
    return 0;
  }
  uint64_t cursor = 0;
  for (const auto& t : header.tensors) {
    uint64_t bytes = dtype_size(t.dtype);
    for (int64_t d : t.shape) bytes *= static_cast<uint64_t>(d);  // validated not to overflow
    if (t.begin != cursor || t.end - t.begin != bytes) std::abort();
    cursor = t.end;
  }
  if (header.data_start + cursor != size) std::abort();
  return 0;
}
