// trainer/lora_parameters.cpp — attaching, saving and restoring a run's LoRA adapters.
#include "trainer/lora_parameters.h"

#include <filesystem>

#include <fmt/ranges.h>

#include "common/check.h"
#include "common/files.h"

namespace st {
namespace {
constexpr const char* kBaseHashKey = "safetune_base_model_sha256";  // in adapter_model.safetensors' metadata
}

LoraParameters::LoraParameters(LoraSettings settings, uint64_t seed, torch::ScalarType base_dtype, std::string base_model,
                               std::string base_sha256)
    : settings_(std::move(settings)),
      seed_(seed),
      base_dtype_(base_dtype),
      base_model_(std::move(base_model)),
      base_sha256_(std::move(base_sha256)) {}

std::string LoraParameters::describe() const {
  const auto& l = settings_;
  const std::string layers = l.layers.empty() ? "" : fmt::format(" in layers {}", fmt::join(l.layers, ","));
  return fmt::format("LoRA r={} alpha={}{} dropout={} on {}{}, base frozen in {}", l.r, l.alpha, l.rslora ? " (rsLoRA)" : "",
                     l.dropout, fmt::join(l.targets, ","), layers, base_dtype_ == torch::kBFloat16 ? "bfloat16" : "float32");
}

NamedTensors LoraParameters::select(LlamaForCausalLM& model) {
  if (base_dtype_ != torch::kFloat32) {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.set_data(p.to(base_dtype_));  // before the fp32 adapters exist
  }
  return attach_lora(model, settings_, seed_);
}

void LoraParameters::save(const std::string& dir, LlamaForCausalLM& model, const SaveOptions& options) const {
  save_lora_adapter(dir, model, settings_, base_model_, {{kBaseHashKey, base_sha256_}});
  copy_files_into(dir, options.tokenizer_files);
}

void LoraParameters::load(const std::string& dir, LlamaForCausalLM& model) const {
  const auto metadata = load_lora_weights(model, settings_, dir);
  const auto file = (std::filesystem::path(dir) / weights_file()).string();
  const auto it = metadata.find(kBaseHashKey);
  ST_CHECK_INPUT(it != metadata.end(), "{}: records no base model hash ({}), so it cannot be checked against model.path",
                 file, kBaseHashKey);
  ST_CHECK_INPUT(it->second == base_sha256_, "{}: was trained on a base model with hash {}, but model.path {} has {}; "
                 "resume with the base it was trained on", file, it->second, base_model_, base_sha256_);
}

}  // namespace st
