// trainer/memory_estimate.cpp — parameter bytes from the shapes the code builds, activation bytes from
// glibc's count of bytes in use around this code's own forward.
#include "trainer/memory_estimate.h"

#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <malloc.h>
#include <torch/torch.h>

#include <algorithm>

#include "models/llama.h"
#include "models/lora_adapter.h"

namespace st {
namespace {

constexpr int64_t kMeasureTokens = 128;  // per-token bytes do not depend on the length (flash attention keeps O(T))
constexpr int64_t kCeChunk = 1024;       // positions per chunk of the fused CE (trainer/train_step.cpp)

double bytes_in_use() {
  const struct mallinfo2 m = mallinfo2();
  return static_cast<double>(m.uordblks + m.hblkhd);
}

// Bytes a forward with a graph leaves held (saved tensors and the output), on a copy of `config` with
// `layers` decoder layers and bf16 weights: the activations CUDA's autocast gives, without its bf16
// copies of fp32 weights (MemoryEstimate::weights counts those).
double forward_keeps(LlamaConfig config, const MemoryPlan& plan, int64_t layers, bool checkpoint) {
  config.num_hidden_layers = layers;
  config.vocab_size = 256;  // the embedding is not part of a layer; keep the copy small
  LlamaForCausalLM model(config);
  model->to(torch::kBFloat16);
  if (plan.lora) attach_lora(model, {plan.r, static_cast<double>(plan.r), 0.0, false, plan.targets, /*layers=*/{}}, /*seed=*/0);
  model->model->checkpoint_layers = checkpoint;
  const auto ids = torch::randint(0, config.vocab_size, {1, kMeasureTokens});
  torch::AutoGradMode grad(true);
  // The adapters stay fp32 as in training; autocast runs their matmuls in bf16 as CUDA's does.
  at::autocast::set_autocast_enabled(at::kCPU, plan.lora);
  at::autocast::set_autocast_dtype(at::kCPU, at::kBFloat16);
  const double before = bytes_in_use();
  const auto hidden = model->model->forward(ids);  // [1, T, H], its graph alive
  const double kept = bytes_in_use() - before;
  at::autocast::set_autocast_enabled(at::kCPU, false);
  at::autocast::clear_cache();
  return kept;
}

}  // namespace

LayerActivationBytes measure_layer_activations(const LlamaConfig& config, const MemoryPlan& plan) {
  const int threads = at::get_num_threads();
  at::set_num_threads(1);  // one arena, no per-thread scratch in the count
  auto per_layer = [&](bool checkpoint) {
    return std::max(0.0, forward_keeps(config, plan, 2, checkpoint) - forward_keeps(config, plan, 1, checkpoint)) /
           static_cast<double>(kMeasureTokens);
  };
  LayerActivationBytes out{per_layer(false), per_layer(true)};
  at::set_num_threads(threads);
  return out;
}

int64_t lora_parameter_count(const LlamaConfig& config, int64_t r, const std::vector<std::string>& targets) {
  int64_t n = 0;
  const std::string suffix = ".weight";
  for (const auto& [name, shape] : llama_parameter_shapes(config)) {
    if (shape.size() != 2 || name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix))
      continue;
    const std::string module = name.substr(0, name.size() - suffix.size());
    const std::string last = module.substr(module.rfind('.') + 1);
    if (last != "lm_head" && std::find(targets.begin(), targets.end(), last) != targets.end()) n += r * (shape[0] + shape[1]);
  }
  return n;
}

MemoryEstimate estimate_training_memory(const LlamaConfig& config, const MemoryPlan& plan, const LayerActivationBytes& layer) {
  MemoryEstimate m;
  for (const auto& [name, shape] : llama_parameter_shapes(config)) {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    m.parameters += n;
  }
  const int64_t adapters = plan.lora ? lora_parameter_count(config, plan.r, plan.targets) : 0;
  const double base_bytes = plan.lora ? static_cast<double>(c10::elementSize(plan.base_dtype)) : 4.0;
  m.trainable = plan.lora ? adapters : m.parameters;
  // fp32 weights also get a bf16 copy each in autocast's cache for the step.
  m.weights = static_cast<double>(m.parameters) * (base_bytes + (base_bytes == 4.0 ? 2.0 : 0.0)) + 4.0 * static_cast<double>(adapters);
  m.gradients = 4.0 * static_cast<double>(m.trainable);
  m.optimizer = 8.0 * static_cast<double>(m.trainable);
  const double tokens = static_cast<double>(plan.batch * plan.seq_len);
  const double layers = static_cast<double>(config.num_hidden_layers);
  // Checkpointed: every layer's input, plus one layer's full activations while its rerun backpropagates.
  m.activations = plan.activation_checkpointing ? tokens * (layers * layer.input_per_token + layer.per_token)
                                                : tokens * layers * layer.per_token;
  // The fused CE's chunk: fp32 logits and their gradient for up to kCeChunk positions.
  m.activations += 2.0 * 4.0 * static_cast<double>(std::min<int64_t>(kCeChunk, plan.batch * plan.seq_len) * config.vocab_size);
  return m;
}

}  // namespace st
