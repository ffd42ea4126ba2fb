// models/safetensors.h — safetensors files as LibTorch tensors: memory-mapped reading (zero-copy views
// where alignment allows), atomic writing, and sharded sets with model.safetensors.index.json.
#pragma once

#include <torch/types.h>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/safetensors_format.h"

namespace st {

class MappedFile;

torch::ScalarType to_torch_dtype(safetensors::DType dtype);
safetensors::DType from_torch_dtype(torch::ScalarType dtype);  // throws for types safetensors lacks

class SafetensorsFile {
 public:
  // Maps and validates the file; a malformed file is exit 2 naming the file and tensor.
  static std::shared_ptr<SafetensorsFile> open(const std::string& path);

  const std::string& path() const;
  const std::vector<safetensors::TensorInfo>& tensors() const { return header_.tensors; }
  const std::map<std::string, std::string>& metadata() const { return header_.metadata; }
  const safetensors::TensorInfo* find(const std::string& name) const;

  // CPU tensor over the mapped bytes (copy-on-write, so in-place writes never reach the file); a copy
  // when the data is not aligned for its dtype. Keeps the mapping alive.
  torch::Tensor tensor(const safetensors::TensorInfo& info) const;
  torch::Tensor tensor(const std::string& name) const;

 private:
  std::shared_ptr<MappedFile> file_;
  safetensors::Header header_;
};

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

// Writes one file atomically; tensors are moved to CPU and made contiguous, order is kept.
void save_safetensors(const std::string& path, const NamedTensors& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// All tensors of a model folder: `model.safetensors`, or the shards listed in
// `model.safetensors.index.json` (the index's weight_map and the shards must agree exactly).
class TensorStore {
 public:
  static TensorStore open_folder(const std::string& dir);
  static TensorStore open_file(const std::string& path);  // one file, no index

  struct Entry {
    const SafetensorsFile* file;
    const safetensors::TensorInfo* info;
  };
  const std::map<std::string, Entry>& entries() const { return entries_; }
  bool contains(const std::string& name) const { return entries_.count(name) > 0; }
  torch::Tensor tensor(const std::string& name) const;
  const std::vector<std::shared_ptr<SafetensorsFile>>& files() const { return files_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  // Builds entries_ from files_, checking names against the index's weight_map when there is one.
  void index_tensors(const std::map<std::string, std::string>& expected_file, const std::string& index_path);
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, Entry> entries_;
  std::map<std::string, std::string> metadata_;  // of the single file, or of the first shard
};

// Writes `tensors` into `dir` as model.safetensors, or as model-0000i-of-0000n.safetensors shards plus
// an index when their total exceeds `max_shard_bytes` (0 = never shard). Returns the files written.
std::vector<std::string> save_tensor_folder(const std::string& dir, const NamedTensors& tensors,
                                            const std::map<std::string, std::string>& metadata,
                                            uint64_t max_shard_bytes = 0);

}  // namespace st
