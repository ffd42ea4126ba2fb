// trainer/memory_estimate.h — the memory a training run needs on its device, from what the code allocates:
// parameter, gradient and AdamW bytes from the shapes the model and attach_lora build; activation bytes
// measured by running this code's forward on a one- and a two-layer copy of the model on CPU. What
// `safetune memory` prints and the README's table of 1B/7B/13B models is made of.
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

#include "models/llama_config.h"

namespace st {

struct MemoryPlan {
  bool lora = false;
  int64_t r = 16;
  std::vector<std::string> targets;                // projection names (LoRA only)
  torch::ScalarType base_dtype = torch::kFloat32;  // frozen base under LoRA; full fine-tuning keeps fp32 masters
  bool activation_checkpointing = false;
  int64_t batch = 1, seq_len = 2048;
};

// Bytes, by what holds them.
struct MemoryEstimate {
  int64_t parameters = 0, trainable = 0;  // counts
  double weights = 0;       // every parameter in its dtype (adapters fp32)
  double gradients = 0;     // fp32, trainable only
  double optimizer = 0;     // AdamW's two fp32 moments, trainable only
  double activations = 0;   // what the backward keeps, bf16 compute (autocast), plus one CE chunk's logits
  double total() const { return weights + gradients + optimizer + activations; }
};

// Activation bytes one decoder layer keeps per token for the backward, in bf16 compute, measured (see above).
struct LayerActivationBytes {
  double per_token = 0;      // what a layer's forward keeps for its backward
  double input_per_token = 0;  // what a checkpointed layer keeps: its input
};
LayerActivationBytes measure_layer_activations(const LlamaConfig& config, const MemoryPlan& plan);

MemoryEstimate estimate_training_memory(const LlamaConfig& config, const MemoryPlan& plan,
                                        const LayerActivationBytes& layer);

// Parameters LoRA adds to `config` for `targets` at rank r: r·(in + out) per adapted projection.
int64_t lora_parameter_count(const LlamaConfig& config, int64_t r, const std::vector<std::string>& targets);

}  // namespace st
