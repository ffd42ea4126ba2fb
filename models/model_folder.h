// models/model_folder.h — a Hugging Face model folder (config.json + safetensors [+ index] + tokenizer files)
// read into, and written from, a LlamaForCausalLM. Tokenizer files are only copied here, never read: the
// caller (which may use data/) says which ones.
#pragma once

#include <torch/nn/module.h>
#include <torch/types.h>

#include <string>
#include <vector>

#include "common/files.h"
#include "models/llama.h"
#include "models/safetensors.h"

namespace st {

using ShapeList = std::vector<std::pair<std::string, std::vector<int64_t>>>;

// Checks that `store` holds exactly the `expected` tensors (names, shapes, floating-point dtypes), apart
// from names ending in one of `ignorable`. All problems are reported together, by name (exit 2).
void check_tensors_match(const ShapeList& expected, const TensorStore& store, const std::string& label,
                         const std::vector<std::string>& ignorable);

// Checks the sizes config.json gives against the file's tensors (the embedding and the last layer's
// projections) before a model is built, so a config claiming 1e9 layers or a 1e12 vocabulary is exit 2
// naming the tensor instead of an allocation that aborts or never ends.
void check_config_sizes(const LlamaConfig& config, const TensorStore& store, const std::string& label);

// Tensors a Llama folder may carry that safetune does not use (old rotary buffers, a tied lm_head).
std::vector<std::string> ignorable_llama_tensors(const LlamaConfig& config);

// Copies every parameter of `module` from `store` (converting dtype), after checking that each
// parameter has a tensor of the same shape and that every tensor in the store is used, and that no
// value is NaN or infinite. All problems are reported together, by name (exit 2). `ignorable` names may be present and unused.
void load_parameters(torch::nn::Module& module, const TensorStore& store, const std::string& label,
                     const std::vector<std::string>& ignorable = {});

// Names of the parameters holding a NaN or an infinity, in order (none: empty).
std::vector<std::string> non_finite_parameters(torch::nn::Module& module);

// Reads config.json and the weights of a model folder. Parameters are fp32 on `device` (fp32 master
// weights whatever the file dtype; autocast gives bf16 compute on CUDA).
LlamaForCausalLM load_llama(const std::string& dir, torch::Device device = torch::kCPU);

struct SaveOptions {
  torch::ScalarType dtype = torch::kFloat32;  // dtype of the tensors written
  uint64_t max_shard_bytes = 0;               // 0 = one model.safetensors
  std::vector<NamedFile> tokenizer_files;     // copied in under their names (data/tokenizer.h tokenizer_files())
};

// Writes a folder transformers loads: config.json (torch_dtype set), model.safetensors or shards
// (tied lm_head omitted, as transformers does), the tokenizer files.
void save_llama(const std::string& dir, LlamaForCausalLM& model, const SaveOptions& options);

// Parameters in Hugging Face order and naming, converted to `dtype` on CPU.
NamedTensors named_parameters_for_save(torch::nn::Module& module, torch::ScalarType dtype);

// SHA-256 of a module's parameter bytes, in order: "frozen" is checked, not assumed.
std::string parameters_sha256(torch::nn::Module& module);

torch::ScalarType dtype_from_config_name(const std::string& name, const std::string& label);
std::string config_name_from_dtype(torch::ScalarType dtype);

}  // namespace st
