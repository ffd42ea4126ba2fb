// models/safetensors.cpp — LibTorch views over mapped safetensors files, the writer, and shard sets.
#include "models/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>

#include "common/check.h"
#include "common/files.h"
#include "common/json_file.h"

namespace st {
namespace fs = std::filesystem;
using safetensors::DType;

namespace {
struct DTypePair {
  DType st;
  torch::ScalarType torch;
};
const DTypePair kDTypePairs[] = {
    {DType::BOOL, torch::kBool},    {DType::U8, torch::kByte},     {DType::I8, torch::kChar},
    {DType::I16, torch::kShort},    {DType::U16, torch::kUInt16},  {DType::I32, torch::kInt},
    {DType::U32, torch::kUInt32},   {DType::I64, torch::kLong},    {DType::U64, torch::kUInt64},
    {DType::F16, torch::kHalf},     {DType::BF16, torch::kBFloat16}, {DType::F32, torch::kFloat},
    {DType::F64, torch::kDouble},   {DType::F8_E4M3, torch::kFloat8_e4m3fn},
    {DType::F8_E5M2, torch::kFloat8_e5m2},
};
constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr const char* kSingleName = "model.safetensors";
}  // namespace

torch::ScalarType to_torch_dtype(DType dtype) {
  for (const auto& p : kDTypePairs)
    if (p.st == dtype) return p.torch;
  fail_runtime("no torch dtype for safetensors dtype {}", safetensors::dtype_name(dtype));
}

DType from_torch_dtype(torch::ScalarType dtype) {
  for (const auto& p : kDTypePairs)
    if (p.torch == dtype) return p.st;
  fail_runtime("torch dtype {} has no safetensors equivalent", c10::toString(dtype));
}

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  auto out = std::shared_ptr<SafetensorsFile>(new SafetensorsFile());
  out->file_ = MappedFile::open(path);
  out->header_ = safetensors::parse_header(out->file_->data(), out->file_->size(), path);
  return out;
}

const std::string& SafetensorsFile::path() const { return file_->path(); }

const safetensors::TensorInfo* SafetensorsFile::find(const std::string& name) const {
  for (const auto& t : header_.tensors)
    if (t.name == name) return &t;
  return nullptr;
}

torch::Tensor SafetensorsFile::tensor(const safetensors::TensorInfo& info) const {
  const auto dtype = to_torch_dtype(info.dtype);
  auto options = torch::TensorOptions().dtype(dtype);
  uint8_t* ptr = file_->mutable_data() + header_.data_start + info.begin;
  const uint64_t item = safetensors::dtype_size(info.dtype);
  if (info.end == info.begin) return torch::empty(info.shape, options);
  if (reinterpret_cast<uintptr_t>(ptr) % item != 0) {
    auto out = torch::empty(info.shape, options);
    std::memcpy(out.data_ptr(), ptr, info.end - info.begin);
    return out;
  }
  auto keep_alive = file_;
  return torch::from_blob(ptr, info.shape, [keep_alive](void*) {}, options);
}

torch::Tensor SafetensorsFile::tensor(const std::string& name) const {
  const auto* info = find(name);
  ST_CHECK_INPUT(info != nullptr, "{}: no tensor named '{}'", path(), name);
  return tensor(*info);
}

void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<torch::Tensor> data;
  std::vector<safetensors::TensorInfo> infos;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    ST_CHECK(name != "__metadata__", "{}: '__metadata__' is reserved and cannot name a tensor", path);
    auto cpu = t.detach().to(torch::kCPU).contiguous();
    safetensors::TensorInfo info;
    info.name = name;
    info.dtype = from_torch_dtype(cpu.scalar_type());
    info.shape = cpu.sizes().vec();
    info.begin = offset;
    offset += cpu.nbytes();
    info.end = offset;
    infos.push_back(std::move(info));
    data.push_back(std::move(cpu));
  }
  const std::string header = safetensors::serialize_header(infos, metadata);
  write_file_atomic(path, [&](std::FILE* f) {
    write_all(f, header.data(), header.size(), path);
    for (const auto& t : data) write_all(f, t.data_ptr(), t.nbytes(), path);
  });
}

TensorStore TensorStore::open_folder(const std::string& dir) {
  TensorStore store;
  const fs::path index_path = fs::path(dir) / kIndexName;
  const fs::path single_path = fs::path(dir) / kSingleName;
  std::map<std::string, std::string> expected_file;  // tensor -> shard file name, from the index
  if (fs::exists(index_path)) {
    const std::string label = index_path.string();
    const nlohmann::json index = read_json_file(label);
    ST_CHECK_INPUT(index.is_object() && index.contains("weight_map") && index["weight_map"].is_object(),
                   "{}: missing object 'weight_map'", label);
    std::vector<std::string> shard_names;
    for (const auto& [tensor, file] : index["weight_map"].items()) {
      ST_CHECK_INPUT(file.is_string(), "{}: weight_map['{}'] must be a file name", label, tensor);
      const auto name = file.get<std::string>();
      ST_CHECK_INPUT(name.find('/') == std::string::npos && name != ".." && !name.empty(),
                     "{}: weight_map['{}'] = '{}' must be a file in the same folder", label, tensor, name);
      expected_file[tensor] = name;
      if (std::find(shard_names.begin(), shard_names.end(), name) == shard_names.end())
        shard_names.push_back(name);
    }
    std::sort(shard_names.begin(), shard_names.end());
    for (const auto& name : shard_names) {
      const fs::path p = fs::path(dir) / name;
      ST_CHECK_INPUT(fs::exists(p), "{}: shard '{}' listed in the index does not exist", label, name);
      store.files_.push_back(SafetensorsFile::open(p.string()));
    }
  } else {
    ST_CHECK_INPUT(fs::exists(single_path), "{}: no {} or {} in this folder", dir, kSingleName, kIndexName);
    store.files_.push_back(SafetensorsFile::open(single_path.string()));
  }

  store.index_tensors(expected_file, index_path.string());
  return store;
}

TensorStore TensorStore::open_file(const std::string& path) {
  TensorStore store;
  store.files_.push_back(SafetensorsFile::open(path));
  store.index_tensors({}, "");
  return store;
}

void TensorStore::index_tensors(const std::map<std::string, std::string>& expected_file, const std::string& index_path) {
  TensorStore& store = *this;
  for (const auto& file : store.files_) {
    for (const auto& info : file->tensors()) {
      auto [it, inserted] = store.entries_.emplace(info.name, Entry{file.get(), &info});
      ST_CHECK_INPUT(inserted, "{}: tensor '{}' also appears in {}", file->path(), info.name,
                     it->second.file->path());
      if (!expected_file.empty()) {
        auto exp = expected_file.find(info.name);
        ST_CHECK_INPUT(exp != expected_file.end(), "{}: tensor '{}' is not listed in the index's weight_map",
                       file->path(), info.name);
        ST_CHECK_INPUT(fs::path(file->path()).filename() == exp->second,
                       "{}: tensor '{}' is listed in the index under '{}'", file->path(), info.name, exp->second);
      }
    }
  }
  for (const auto& [tensor, file] : expected_file)
    ST_CHECK_INPUT(store.entries_.count(tensor), "{}: tensor '{}' listed in the index is missing from '{}'",
                   index_path, tensor, file);
  store.metadata_ = store.files_.front()->metadata();
}

torch::Tensor TensorStore::tensor(const std::string& name) const {
  auto it = entries_.find(name);
  ST_CHECK_INPUT(it != entries_.end(), "no tensor named '{}' in the model folder", name);
  return it->second.file->tensor(*it->second.info);
}

std::vector<std::string> save_tensor_folder(const std::string& dir, const NamedTensors& tensors,
                                            const std::map<std::string, std::string>& metadata,
                                            uint64_t max_shard_bytes) {
  fs::create_directories(dir);
  uint64_t total = 0;
  for (const auto& [_, t] : tensors) total += t.nbytes();
  if (max_shard_bytes == 0 || total <= max_shard_bytes) {
    const auto path = (fs::path(dir) / kSingleName).string();
    save_safetensors(path, tensors, metadata);
    std::error_code ec;
    fs::remove(fs::path(dir) / kIndexName, ec);  // a stale index would shadow the single file
    return {path};
  }
  // Greedy packing in the given order, as transformers does: a tensor larger than the cap gets its own shard.
  std::vector<NamedTensors> shards(1);
  uint64_t current = 0;
  for (const auto& nt : tensors) {
    if (current > 0 && current + nt.second.nbytes() > max_shard_bytes) {
      shards.emplace_back();
      current = 0;
    }
    shards.back().push_back(nt);
    current += nt.second.nbytes();
  }
  std::vector<std::string> written;
  nlohmann::ordered_json weight_map = nlohmann::ordered_json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    const auto name = fmt::format("model-{:05d}-of-{:05d}.safetensors", i + 1, shards.size());
    const auto path = (fs::path(dir) / name).string();
    save_safetensors(path, shards[i], metadata);
    for (const auto& [tensor, _] : shards[i]) weight_map[tensor] = name;
    written.push_back(path);
  }
  nlohmann::ordered_json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  const auto index_path = (fs::path(dir) / kIndexName).string();
  write_text_file_atomic(index_path, index.dump(2) + "\n");
  written.push_back(index_path);
  return written;
}

}  // namespace st
