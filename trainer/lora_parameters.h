// trainer/lora_parameters.h — LoRA training: adapters on the targeted projections of a frozen base (kept in
// lora.base_dtype), saved as PEFT adapter folders that record the base model's hash.
#pragma once

#include <string>

#include "models/lora_adapter.h"
#include "trainer/trainable_parameters.h"

namespace st {

class LoraParameters : public TrainableParameters {
 public:
  // `base_model`: the base folder, written into adapter_config.json; `base_sha256`: its weights' hash.
  LoraParameters(LoraSettings settings, uint64_t seed, torch::ScalarType base_dtype, std::string base_model,
                 std::string base_sha256);
  std::string name() const override { return "lora"; }
  std::string describe() const override;
  std::string saved_as() const override { return "adapter (PEFT)"; }
  NamedTensors select(LlamaForCausalLM& model) override;
  void save(const std::string& dir, LlamaForCausalLM& model, const SaveOptions& options) const override;
  void load(const std::string& dir, LlamaForCausalLM& model) const override;
  std::string weights_file() const override { return "adapter_model.safetensors"; }

 private:
  LoraSettings settings_;
  uint64_t seed_;
  torch::ScalarType base_dtype_;
  std::string base_model_, base_sha256_;
};

}  // namespace st
