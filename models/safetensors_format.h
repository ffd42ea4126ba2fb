// models/safetensors_format.h — the safetensors file layout without LibTorch: dtypes, the JSON header
// and every check the format requires. Kept torch-free so the libFuzzer target can build it alone.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace st::safetensors {

enum class DType { BOOL, U8, I8, I16, U16, I32, U32, I64, U64, F16, BF16, F32, F64, F8_E4M3, F8_E5M2 };

std::optional<DType> dtype_from_name(const std::string& name);
const char* dtype_name(DType dtype);
uint64_t dtype_size(DType dtype);

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // offsets relative to the start of the data section
  uint64_t end = 0;
};

struct Header {
  std::vector<TensorInfo> tensors;  // in file (offset) order
  std::map<std::string, std::string> metadata;
  uint64_t data_start = 0;  // absolute file offset of the data section: 8 + header length
};

// Same cap as the reference implementation: a header is JSON describing tensors, never data.
constexpr uint64_t kMaxHeaderBytes = 100ull * 1024 * 1024;

// Parses and validates the header of a whole safetensors file held in `bytes[0, size)`.
// Throws st::Error (exit 2) naming `label` (the file) and, where one is at fault, the tensor.
// Checks: length prefix present and within the cap and the file; header is valid UTF-8 JSON starting
// with '{' (trailing spaces allowed); no duplicate names; every entry has a known dtype, a shape of
// non-negative integers and two in-range offsets; byte size = product(shape) × dtype size without
// overflow; tensors tile the data section exactly (contiguous, no overlap, no gap) up to end of file.
Header parse_header(const uint8_t* bytes, uint64_t size, const std::string& label);

// Serialises a header for the given tensors (offsets must already be contiguous from 0), padded with
// spaces so the data section starts 8-byte aligned. Returns the 8-byte length prefix + JSON.
std::string serialize_header(const std::vector<TensorInfo>& tensors,
                             const std::map<std::string, std::string>& metadata);

}  // namespace st::safetensors
