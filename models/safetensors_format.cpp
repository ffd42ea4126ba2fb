// models/safetensors_format.cpp — header parsing and validation for safetensors files.
#include "models/safetensors_format.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <set>

#include "common/check.h"

namespace st::safetensors {
namespace {

struct DTypeEntry {
  DType dtype;
  const char* name;
  uint64_t size;
};

constexpr DTypeEntry kDTypes[] = {
    {DType::BOOL, "BOOL", 1}, {DType::U8, "U8", 1},     {DType::I8, "I8", 1},
    {DType::I16, "I16", 2},   {DType::U16, "U16", 2},   {DType::I32, "I32", 4},
    {DType::U32, "U32", 4},   {DType::I64, "I64", 8},   {DType::U64, "U64", 8},
    {DType::F16, "F16", 2},   {DType::BF16, "BF16", 2}, {DType::F32, "F32", 4},
    {DType::F64, "F64", 8},   {DType::F8_E4M3, "F8_E4M3", 1}, {DType::F8_E5M2, "F8_E5M2", 1},
};

const DTypeEntry& entry(DType dtype) {
  for (const auto& e : kDTypes)
    if (e.dtype == dtype) return e;
  fail_runtime("unknown safetensors dtype enum {}", static_cast<int>(dtype));
}

uint64_t read_le_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// nlohmann keeps the last of duplicate keys silently; the spec forbids duplicates, so record them.
struct DuplicateKeyFinder {
  std::set<std::string> seen;
  std::string duplicate;
  bool operator()(int depth, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    if (depth == 1 && event == nlohmann::json::parse_event_t::key && parsed.is_string()) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!seen.insert(key).second && duplicate.empty()) duplicate = key;
    }
    return true;
  }
};

uint64_t checked_offset(const nlohmann::json& v, const std::string& label, const std::string& name) {
  ST_CHECK_INPUT(v.is_number_unsigned(), "{}: tensor '{}': data_offsets must be two non-negative integers",
                 label, name);
  return v.get<uint64_t>();
}

TensorInfo parse_entry(const std::string& name, const nlohmann::json& e, const std::string& label) {
  ST_CHECK_INPUT(e.is_object(), "{}: tensor '{}': entry must be an object", label, name);
  for (const auto& [key, _] : e.items())
    ST_CHECK_INPUT(key == "dtype" || key == "shape" || key == "data_offsets",
                   "{}: tensor '{}': unknown field '{}'", label, name, key);
  ST_CHECK_INPUT(e.contains("dtype") && e["dtype"].is_string(), "{}: tensor '{}': missing string 'dtype'",
                 label, name);
  ST_CHECK_INPUT(e.contains("shape") && e["shape"].is_array(), "{}: tensor '{}': missing array 'shape'",
                 label, name);
  ST_CHECK_INPUT(e.contains("data_offsets") && e["data_offsets"].is_array() && e["data_offsets"].size() == 2,
                 "{}: tensor '{}': 'data_offsets' must be [begin, end]", label, name);
  TensorInfo info;
  info.name = name;
  const auto dtype_str = e["dtype"].get<std::string>();
  auto dtype = dtype_from_name(dtype_str);
  ST_CHECK_INPUT(dtype.has_value(), "{}: tensor '{}': unknown dtype '{}'", label, name, dtype_str);
  info.dtype = *dtype;

  uint64_t bytes = dtype_size(info.dtype);
  for (const auto& dim : e["shape"]) {
    ST_CHECK_INPUT(dim.is_number_unsigned(), "{}: tensor '{}': shape entries must be non-negative integers",
                   label, name);
    const uint64_t d = dim.get<uint64_t>();
    ST_CHECK_INPUT(d <= static_cast<uint64_t>(INT64_MAX), "{}: tensor '{}': dimension {} too large", label,
                   name, d);
    ST_CHECK_INPUT(d == 0 || bytes <= UINT64_MAX / d, "{}: tensor '{}': shape × dtype size overflows 64 bits",
                   label, name);
    bytes *= d;
    info.shape.push_back(static_cast<int64_t>(d));
  }
  info.begin = checked_offset(e["data_offsets"][0], label, name);
  info.end = checked_offset(e["data_offsets"][1], label, name);
  ST_CHECK_INPUT(info.begin <= info.end, "{}: tensor '{}': data_offsets begin {} > end {}", label, name,
                 info.begin, info.end);
  ST_CHECK_INPUT(info.end - info.begin == bytes,
                 "{}: tensor '{}': data_offsets span {} bytes but shape × dtype size is {} bytes", label, name,
                 info.end - info.begin, bytes);
  return info;
}

}  // namespace

std::optional<DType> dtype_from_name(const std::string& name) {
  for (const auto& e : kDTypes)
    if (name == e.name) return e.dtype;
  return std::nullopt;
}

const char* dtype_name(DType dtype) { return entry(dtype).name; }
uint64_t dtype_size(DType dtype) { return entry(dtype).size; }

Header parse_header(const uint8_t* bytes, uint64_t size, const std::string& label) {
  ST_CHECK_INPUT(size >= 8, "{}: file is {} bytes, too short for the 8-byte header length", label, size);
  const uint64_t n = read_le_u64(bytes);
  ST_CHECK_INPUT(n <= kMaxHeaderBytes, "{}: header length {} exceeds the {} byte cap", label, n,
                 kMaxHeaderBytes);
  ST_CHECK_INPUT(n <= size - 8, "{}: header length {} runs past the end of the {} byte file", label, n, size);
  ST_CHECK_INPUT(n >= 2 && bytes[8] == '{', "{}: header must be a JSON object starting with '{{'", label);

  const char* text = reinterpret_cast<const char*>(bytes + 8);
  DuplicateKeyFinder dups;
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text, text + n, std::ref(dups));
  } catch (const nlohmann::json::exception& e) {
    // nlohmann's message includes position info; trim the "[json.exception.parse_error.101] " prefix.
    std::string what = e.what();
    auto pos = what.find("] ");
    fail_input("{}: header is not valid JSON: {}", label, pos == std::string::npos ? what : what.substr(pos + 2));
  }
  ST_CHECK_INPUT(root.is_object(), "{}: header must be a JSON object", label);
  ST_CHECK_INPUT(dups.duplicate.empty(), "{}: duplicate tensor name '{}' in header", label, dups.duplicate);

  Header header;
  header.data_start = 8 + n;
  for (const auto& [name, value] : root.items()) {
    if (name == "__metadata__") {
      ST_CHECK_INPUT(value.is_object(), "{}: __metadata__ must be an object of strings", label);
      for (const auto& [k, v] : value.items()) {
        ST_CHECK_INPUT(v.is_string(), "{}: __metadata__ key '{}' must be a string", label, k);
        header.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    header.tensors.push_back(parse_entry(name, value, label));
  }

  // Tensors must tile [0, data_size) exactly: sort by offset and walk.
  std::sort(header.tensors.begin(), header.tensors.end(), [](const TensorInfo& a, const TensorInfo& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  const uint64_t data_size = size - header.data_start;
  uint64_t cursor = 0;
  for (const auto& t : header.tensors) {
    ST_CHECK_INPUT(t.begin >= cursor, "{}: tensor '{}': data_offsets [{}, {}] overlap the previous tensor", label,
                   t.name, t.begin, t.end);
    ST_CHECK_INPUT(t.begin == cursor, "{}: tensor '{}': gap of {} bytes before its data_offsets [{}, {}]", label,
                   t.name, t.begin - cursor, t.begin, t.end);
    ST_CHECK_INPUT(t.end <= data_size, "{}: tensor '{}': data_offsets end {} is past the data section ({} bytes)",
                   label, t.name, t.end, data_size);
    cursor = t.end;
  }
  ST_CHECK_INPUT(cursor == data_size, "{}: {} bytes after the last tensor (file length does not match header)",
                 label, data_size - cursor);
  return header;
}

std::string serialize_header(const std::vector<TensorInfo>& tensors,
                             const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json root = nlohmann::ordered_json::object();
  if (!metadata.empty()) root["__metadata__"] = metadata;
  for (const auto& t : tensors)
    root[t.name] = {{"dtype", dtype_name(t.dtype)}, {"shape", t.shape}, {"data_offsets", {t.begin, t.end}}};
  std::string json = root.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + json;
}

}  // namespace st::safetensors
