// models/lora_adapter.h — PEFT LoRA adapter folders (adapter_config.json, adapter_model.safetensors), as
// `peft` saves them: attached to a Llama's projections for training (models/projection.h), saved, loaded
// back, or merged into the weights: W += scale · B·A, with scale = lora_alpha / r (lora_alpha / √r with
// use_rslora). What train (lora.*), generate, eval and merge use.
#pragma once

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "models/llama.h"
#include "models/safetensors.h"

namespace st {

// What a LoRA run adapts and how (the lora.* keys; adapter_config.json).
struct LoraSettings {
  int64_t r = 16;
  double alpha = 16, dropout = 0;
  bool rslora = false;
  std::vector<std::string> targets;  // projection names (q_proj, ...), all-linear expanded
  std::vector<int64_t> layers;       // decoder layers that get adapters (PEFT's layers_to_transform); empty = all
  double scale() const { return rslora ? alpha / std::sqrt(static_cast<double>(r)) : alpha / static_cast<double>(r); }
};

// What lora.target_modules may name: the projections and "all-linear" (every one of them).
std::vector<std::string> lora_target_names();
// The names with all-linear expanded, in projection order; exit 2 naming `label` when there are none.
std::vector<std::string> expand_lora_targets(const std::vector<std::string>& names, const std::string& label);

// Attaches an adapter to each targeted projection of every chosen layer (exit 2 naming
// lora.layers_to_transform for a layer the model lacks), initialised as PEFT's default does:
// A Kaiming-uniform (a = √5, so U(±1/√in)) drawn on CPU from `seed` alone, B zero, so the model's output
// is unchanged. Every other parameter is frozen. Returns the adapters' parameters, in registration order.
NamedTensors attach_lora(LlamaForCausalLM& model, const LoraSettings& settings, uint64_t seed);

// The attached adapters' parameters by model name (model.layers.0.self_attn.q_proj.lora_A.weight).
NamedTensors lora_parameters(LlamaForCausalLM& model);

// Writes a PEFT adapter folder: adapter_config.json and adapter_model.safetensors (float32, PEFT's key
// names), with `metadata` in the safetensors header.
void save_lora_adapter(const std::string& dir, LlamaForCausalLM& model, const LoraSettings& settings,
                       const std::string& base_model, const std::map<std::string, std::string>& metadata);

// Copies a saved adapter into the attached one, after checking that it has the same r, alpha, rsLoRA and
// modules (exit 2 naming the file and the key or tensor). Returns the safetensors header's metadata.
std::map<std::string, std::string> load_lora_weights(LlamaForCausalLM& model, const LoraSettings& settings,
                                                     const std::string& dir);

struct LoraAdapterInfo {
  int64_t r = 0;
  double alpha = 0, scale = 0;
  bool rslora = false;
  std::vector<int64_t> layers;       // layers_to_transform; empty = every layer
  std::vector<std::string> modules;  // the adapted projections, by Hugging Face name (model.layers.0.self_attn.q_proj)
};

// Reads and checks the adapter against `model` (every problem is exit 2 naming the file and the key or
// tensor: a PEFT option safetune does not apply, a module that is not a supported projection, a missing
// or misshapen A or B, a non-finite value), then merges it in place.
LoraAdapterInfo merge_lora_adapter(LlamaForCausalLM& model, const std::string& adapter_dir);

// What `--model DIR [--adapter A]` names: DIR and A as given; or, when DIR is a PEFT adapter folder
// (adapter_config.json, no config.json) and no adapter is given, the base model its adapter_config.json
// names (base_model_name_or_path; a relative path is taken from DIR) with DIR as the adapter, as
// peft's AutoPeftModel does. So `--model RUN/final` works for a LoRA run.
struct ModelSource {
  std::string base, adapter;
};
ModelSource resolve_model_source(const std::string& model_dir, const std::string& adapter_dir);

// load_llama(dir) with the adapter merged when `adapter_dir` is not empty; says what it merged on stdout.
LlamaForCausalLM load_llama_with_adapter(const std::string& dir, const std::string& adapter_dir,
                                         torch::Device device = torch::kCPU);

}  // namespace st
