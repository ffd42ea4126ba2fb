// models/lora_adapter.h — PEFT LoRA adapter folders (adapter_config.json, adapter_model.safetensors), as
// `peft` saves them, merged into a Llama's weights: W += scale · B·A for each adapted projection, with
// scale = lora_alpha / r (lora_alpha / √r with use_rslora). What generate, eval and merge use.
#pragma once

#include <string>
#include <vector>

#include "models/llama.h"

namespace st {

struct LoraAdapterInfo {
  int64_t r = 0;
  double alpha = 0, scale = 0;
  bool rslora = false;
  std::vector<std::string> modules;  // the adapted projections, by Hugging Face name (model.layers.0.self_attn.q_proj)
};

// Reads and checks the adapter against `model` (every problem is exit 2 naming the file and the key or
// tensor: a PEFT option safetune does not apply, a module that is not a supported projection, a missing
// or misshapen A or B, a non-finite value), then merges it in place.
LoraAdapterInfo merge_lora_adapter(LlamaForCausalLM& model, const std::string& adapter_dir);

// load_llama(dir) with the adapter merged when `adapter_dir` is not empty; says what it merged on stdout.
LlamaForCausalLM load_llama_with_adapter(const std::string& dir, const std::string& adapter_dir,
                                         torch::Device device = torch::kCPU);

}  // namespace st
