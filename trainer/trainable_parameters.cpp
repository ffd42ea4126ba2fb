// trainer/trainable_parameters.cpp — full fine-tuning's weights (whole model folders), and the choice
// between it and LoRA from the config.
#include "trainer/trainable_parameters.h"

#include "common/rng.h"
#include "trainer/lora_parameters.h"

namespace st {

NamedTensors AllParameters::select(LlamaForCausalLM& model) {
  NamedTensors params;
  for (auto& item : model->named_parameters()) params.emplace_back(item.key(), item.value());
  return params;
}

void AllParameters::save(const std::string& dir, LlamaForCausalLM& model, const SaveOptions& options) const {
  save_llama(dir, model, options);
}

void AllParameters::load(const std::string& dir, LlamaForCausalLM& model) const {
  load_parameters(*model, TensorStore::open_folder(dir), dir, ignorable_llama_tensors(model->config()));  // copy_ crosses devices
}

std::unique_ptr<TrainableParameters> make_trainable_parameters(const RunConfig& config, const std::string& base_sha256) {
  const auto& l = config.lora;
  if (!l.enabled) return std::make_unique<AllParameters>();
  LoraSettings settings{l.r, l.alpha, l.dropout, l.use_rslora, expand_lora_targets(l.target_modules, config.source + ": lora.target_modules"),
                        l.layers_to_transform};
  const auto base_dtype = l.base_dtype == BaseDtype::BFloat16 ? torch::kBFloat16 : torch::kFloat32;
  return std::make_unique<LoraParameters>(std::move(settings), rng_seed(config.train.seed, RngStream::LoraInit), base_dtype,
                                          config.model.path, base_sha256);
}

}  // namespace st
