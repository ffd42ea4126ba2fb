// models/llama.h — the Llama decoder (LlamaForCausalLM) as LibTorch modules whose parameter names are the
// Hugging Face tensor names, so a model folder loads and saves without a name map.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

#include "models/llama_config.h"
#include "models/projection.h"

namespace st {

// RMSNorm computed in fp32 for fp32/bf16/fp16 activations, as transformers does (float64 stays float64);
// the weight multiplies the result cast back to the input dtype.
class RMSNormImpl : public torch::nn::Module {
 public:
  RMSNormImpl(int64_t dim, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;

 private:
  double eps_;
};
TORCH_MODULE(RMSNorm);

// cos/sin tables for rotary embeddings in the rotate_half layout: [B or 1, T, head_dim], fp32 maths.
struct RotaryTables {
  torch::Tensor cos, sin;
};

// inv_freq for the configured rope type (default, linear, llama3). [head_dim / 2], fp32.
torch::Tensor rope_inverse_frequencies(const LlamaConfig& config);

// The attention mask of packed rows: segment_ids [B, T] (one id per example in a row; padding has its own) ->
// [B, 1, T, T] bool, true where a query may see a key: same segment and not later. Padding then attends to
// padding only, so no query row is empty (an all-false row would make attention NaN).
torch::Tensor packed_attention_mask(const torch::Tensor& segment_ids);

// Keys and values of one attention layer for the tokens seen so far: [B, Hkv, S, D] each.
struct LayerCache {
  torch::Tensor keys, values;
};

class LlamaAttentionImpl : public torch::nn::Module {
 public:
  explicit LlamaAttentionImpl(const LlamaConfig& config);
  // x [B, T, H] -> [B, T, H]. `mask` is one of: undefined (causal models: causal attention over right-padded
  // rows; the classifier: every key); [B, T] bool, true = real token (the classifier hides padding); or
  // [B, 1, T, T] bool, true = attend (packed rows: causal within each example, from packed_attention_mask).
  torch::Tensor forward(const torch::Tensor& x, const RotaryTables& rope, const torch::Tensor& mask = {});
  // Incremental decoding: x [B, Tq, H] are new tokens; their keys/values are appended to `cache`, and
  // `mask` [B, 1, Tq, S] (bool, true = attend) says which cached and new keys each query may see.
  torch::Tensor forward_cached(const torch::Tensor& x, const RotaryTables& rope, LayerCache& cache, const torch::Tensor& mask);
  Projection q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};

 private:
  struct QKV {
    torch::Tensor q, k, v;  // [B, Hq, T, D], [B, Hkv, T, D] x 2; q and k rotated
  };
  QKV project(const torch::Tensor& x, const RotaryTables& rope);

  int64_t num_heads_, num_kv_heads_, head_dim_;
  bool causal_;
};
TORCH_MODULE(LlamaAttention);

class LlamaMLPImpl : public torch::nn::Module {
 public:
  explicit LlamaMLPImpl(const LlamaConfig& config);
  torch::Tensor forward(const torch::Tensor& x);  // down(silu(gate(x)) * up(x))
  Projection gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
};
TORCH_MODULE(LlamaMLP);

class LlamaDecoderLayerImpl : public torch::nn::Module {
 public:
  explicit LlamaDecoderLayerImpl(const LlamaConfig& config);
  torch::Tensor forward(const torch::Tensor& x, const RotaryTables& rope, const torch::Tensor& mask = {});
  torch::Tensor forward_cached(const torch::Tensor& x, const RotaryTables& rope, LayerCache& cache, const torch::Tensor& mask);
  LlamaAttention self_attn{nullptr};
  LlamaMLP mlp{nullptr};
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
};
TORCH_MODULE(LlamaDecoderLayer);

// "model." in Hugging Face names: embeddings, the decoder stack and the final norm.
class LlamaModelImpl : public torch::nn::Module {
 public:
  explicit LlamaModelImpl(const LlamaConfig& config);
  // input_ids [B, T] int64; position_ids [B, T] or undefined for 0..T-1; `mask` as LlamaAttention's.
  // Returns normed hidden [B, T, H].
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& position_ids = {}, const torch::Tensor& mask = {});
  // The same from input embeddings [B, T, H] (the soft penalty feeds expected embeddings).
  torch::Tensor forward_embeddings(const torch::Tensor& embeds, const torch::Tensor& position_ids = {},
                                   const torch::Tensor& mask = {});
  // Incremental decoding over `caches` (one per layer, filled as it goes). Returns normed hidden [B, Tq, H].
  torch::Tensor forward_cached(const torch::Tensor& input_ids, const torch::Tensor& position_ids,
                               std::vector<LayerCache>& caches, const torch::Tensor& mask);
  RotaryTables rotary_tables(const torch::Tensor& position_ids, torch::ScalarType dtype) const;

  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RMSNorm norm{nullptr};
  // Activation checkpointing per decoder layer while a graph is built: each layer keeps only its input
  // and reruns in the backward (about one more forward of compute for far less activation memory).
  bool checkpoint_layers = false;

 private:
  torch::Tensor inv_freq_;  // buffer [head_dim / 2]; not a parameter, never saved (as in transformers)
};
TORCH_MODULE(LlamaModel);

// Evaluation mode (no LoRA dropout) for a scope: generation and evaluation inside a training run, which
// puts the model back in the mode it found.
class EvalModeGuard {
 public:
  explicit EvalModeGuard(torch::nn::Module& module) : module_(module), was_training_(module.is_training()) { module_.eval(); }
  ~EvalModeGuard() { module_.train(was_training_); }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  torch::nn::Module& module_;
  bool was_training_;
};

// Fills every parameter as transformers' _init_weights does: normal(0, std) for linear and embedding
// weights, zeros for biases, ones for norm weights; drawn on CPU from `seed` alone, whatever the device.
void init_parameters(torch::nn::Module& module, double std, uint64_t seed);

// The scaled-dot-product-attention kernel PyTorch picks for this model's training attention on `device`
// in `dtype` at `seq_len` ("flash", "efficient", "cudnn", "math", ...), asked with inputs of the real
// shapes that require grad. On CUDA anything but "math" is a fused kernel.
std::string attention_kernel(const LlamaConfig& config, torch::Device device, torch::ScalarType dtype, int64_t seq_len);

// Every parameter name and shape of LlamaForCausalLM(config), in registration order, computed without
// allocating (for inspecting folders of any size). A test keeps it equal to the modules'.
std::vector<std::pair<std::string, std::vector<int64_t>>> llama_parameter_shapes(const LlamaConfig& config);

class LlamaForCausalLMImpl : public torch::nn::Module {
 public:
  explicit LlamaForCausalLMImpl(const LlamaConfig& config);
  // input_ids [B, T] -> logits [B, T, V]
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& position_ids = {}, const torch::Tensor& mask = {});
  // The output projection's weight [V, H]: lm_head's, or the embedding's when tied.
  torch::Tensor output_weight() const;
  void init_weights(uint64_t seed) { init_parameters(*this, config_.initializer_range, seed); }

  const LlamaConfig& config() const { return config_; }
  LlamaModel model{nullptr};
  torch::nn::Linear lm_head{nullptr};  // null when tie_word_embeddings

 private:
  LlamaConfig config_;
};
TORCH_MODULE(LlamaForCausalLM);

}  // namespace st
