// models/llama.cpp — forward maths of the Llama decoder, matching transformers' modeling_llama.py.
#include "models/llama.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <ATen/SDPBackend.h>
#include <ATen/ops/_fused_sdp_choice.h>
#include <ATen/ops/scaled_dot_product_attention.h>
#include <torch/autograd.h>
#include <torch/nn/functional/linear.h>

#include <fmt/format.h>

#include <cmath>

#include "common/check.h"
#include "models/llama_ops.h"

namespace st {
namespace F = torch::nn::functional;

RMSNormImpl::RMSNormImpl(int64_t dim, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) { return rms_norm(x, weight, eps_); }

torch::Tensor rope_inverse_frequencies(const LlamaConfig& c) {
  const int64_t dim = c.head_dim;
  auto exponent = torch::arange(0, dim, 2, torch::kInt64).to(torch::kFloat32) / static_cast<double>(dim);
  auto inv_freq = 1.0 / torch::pow(c.rope.theta, exponent);  // [dim / 2]
  switch (c.rope.type) {
    case RopeType::Default:
      return inv_freq;
    case RopeType::Linear:
      return inv_freq / c.rope.factor;
    case RopeType::Llama3: {
      // Llama 3.1: keep high frequencies, divide low ones by factor, blend smoothly in between.
      const double old_len = static_cast<double>(c.rope.original_max_position_embeddings);
      const double low_wavelen = old_len / c.rope.low_freq_factor;
      const double high_wavelen = old_len / c.rope.high_freq_factor;
      auto wavelen = 2.0 * M_PI / inv_freq;
      auto scaled = torch::where(wavelen > low_wavelen, inv_freq / c.rope.factor, inv_freq);
      auto smooth = (old_len / wavelen - c.rope.low_freq_factor) / (c.rope.high_freq_factor - c.rope.low_freq_factor);
      auto smoothed = (1 - smooth) * scaled / c.rope.factor + smooth * scaled;
      auto medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
      return torch::where(medium, smoothed, scaled);
    }
  }
  return inv_freq;
}

LlamaAttentionImpl::LlamaAttentionImpl(const LlamaConfig& c)
    : num_heads_(c.num_attention_heads), num_kv_heads_(c.num_key_value_heads), head_dim_(c.head_dim), causal_(c.causal) {
  auto linear = [&](int64_t in, int64_t out, bool bias) { return Projection(in, out, bias); };
  q_proj = register_module("q_proj", linear(c.hidden_size, num_heads_ * head_dim_, c.qkv_bias));
  k_proj = register_module("k_proj", linear(c.hidden_size, num_kv_heads_ * head_dim_, c.qkv_bias));
  v_proj = register_module("v_proj", linear(c.hidden_size, num_kv_heads_ * head_dim_, c.qkv_bias));
  o_proj = register_module("o_proj", linear(num_heads_ * head_dim_, c.hidden_size, c.o_bias));
}

torch::Tensor packed_attention_mask(const torch::Tensor& segment_ids) {
  const int64_t T = segment_ids.size(1);
  const auto same = segment_ids.unsqueeze(2).eq(segment_ids.unsqueeze(1));                           // [B, T, T]
  const auto causal = torch::ones({T, T}, segment_ids.options().dtype(torch::kBool)).tril();  // [T, T]
  return same.logical_and(causal).unsqueeze(1);                                                // [B, 1, T, T]
}

LlamaAttentionImpl::QKV LlamaAttentionImpl::project(const torch::Tensor& x, const RotaryTables& rope) {
  const int64_t B = x.size(0), T = x.size(1);
  // Rotary embedding in the projections' own [B, T, heads, D] layout (contiguous), then heads first.
  auto heads = [&](const torch::Tensor& t, int64_t n) { return t.view({B, T, n, head_dim_}); };
  return {apply_rotary(heads(q_proj(x), num_heads_), rope.cos, rope.sin).transpose(1, 2),     // [B, Hq, T, D]
          apply_rotary(heads(k_proj(x), num_kv_heads_), rope.cos, rope.sin).transpose(1, 2),  // [B, Hkv, T, D]
          heads(v_proj(x), num_kv_heads_).transpose(1, 2)};                                    // [B, Hkv, T, D]
}

torch::Tensor LlamaAttentionImpl::forward(const torch::Tensor& x, const RotaryTables& rope, const torch::Tensor& mask) {
  const int64_t B = x.size(0), T = x.size(1);
  auto [q, k, v] = project(x, rope);
  std::optional<torch::Tensor> attend;
  ST_CHECK(!causal_ || !mask.defined() || mask.dim() == 4, "internal: a causal model takes right padding or packed rows, not a key mask");
  if (mask.defined()) attend = mask.dim() == 4 ? mask : mask.to(torch::kBool).view({B, 1, 1, T});  // [B, 1, T|1, T]
  auto out = at::scaled_dot_product_attention(q, k, v, attend, /*dropout_p=*/0.0, /*is_causal=*/causal_ && !mask.defined(),
                                              /*scale=*/std::nullopt, /*enable_gqa=*/num_kv_heads_ != num_heads_);
  out = out.transpose(1, 2).reshape({B, T, num_heads_ * head_dim_});  // [B, T, Hq*D]
  return o_proj(out);
}

torch::Tensor LlamaAttentionImpl::forward_cached(const torch::Tensor& x, const RotaryTables& rope, LayerCache& cache,
                                                const torch::Tensor& mask) {
  const int64_t B = x.size(0), T = x.size(1);
  auto [q, k, v] = project(x, rope);  // [B, Hq, Tq, D], [B, Hkv, Tq, D] x 2
  if (cache.keys.defined()) {
    k = torch::cat({cache.keys, k}, /*dim=*/2);  // [B, Hkv, S, D]
    v = torch::cat({cache.values, v}, /*dim=*/2);
  }
  cache.keys = k;
  cache.values = v;
  auto out = at::scaled_dot_product_attention(q, k, v, mask, /*dropout_p=*/0.0, /*is_causal=*/false,
                                              /*scale=*/std::nullopt, /*enable_gqa=*/num_kv_heads_ != num_heads_);
  return o_proj(out.transpose(1, 2).reshape({B, T, num_heads_ * head_dim_}));
}

LlamaMLPImpl::LlamaMLPImpl(const LlamaConfig& c) {
  auto linear = [&](int64_t in, int64_t out) { return Projection(in, out, c.mlp_bias); };
  gate_proj = register_module("gate_proj", linear(c.hidden_size, c.intermediate_size));
  up_proj = register_module("up_proj", linear(c.hidden_size, c.intermediate_size));
  down_proj = register_module("down_proj", linear(c.intermediate_size, c.hidden_size));
}

torch::Tensor LlamaMLPImpl::forward(const torch::Tensor& x) {
  return down_proj(swiglu(gate_proj(x), up_proj(x)));
}

LlamaDecoderLayerImpl::LlamaDecoderLayerImpl(const LlamaConfig& c) {
  self_attn = register_module("self_attn", LlamaAttention(c));
  mlp = register_module("mlp", LlamaMLP(c));
  input_layernorm = register_module("input_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  post_attention_layernorm = register_module("post_attention_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
}

torch::Tensor LlamaDecoderLayerImpl::forward(const torch::Tensor& x, const RotaryTables& rope, const torch::Tensor& mask) {
  auto h = x + self_attn(input_layernorm(x), rope, mask);
  return h + mlp(post_attention_layernorm(h));
}

torch::Tensor LlamaDecoderLayerImpl::forward_cached(const torch::Tensor& x, const RotaryTables& rope, LayerCache& cache,
                                                    const torch::Tensor& mask) {
  auto h = x + self_attn->forward_cached(input_layernorm(x), rope, cache, mask);
  return h + mlp(post_attention_layernorm(h));
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

at::Generator default_generator(const torch::Tensor& on) { return at::globalContext().defaultGenerator(on.device()); }

// Activation checkpointing of one decoder layer (PyTorch's reentrant checkpoint): the forward runs
// without a graph and keeps only the layer's input; the backward reruns the layer with a graph, under the
// autocast state of the forward, and backpropagates through it, which also accumulates the layer's
// parameter gradients. The rerun starts from the forward's generator state, so LoRA dropout draws the
// same masks and the rerun computes exactly what the forward did (PyTorch's preserve_rng_state).
class CheckpointedLayer : public torch::autograd::Function<CheckpointedLayer> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& cos,
                               const torch::Tensor& sin, const torch::Tensor* mask, LlamaDecoderLayerImpl* layer) {
    const auto type = x.device().type();
    ctx->saved_data["layer"] = reinterpret_cast<int64_t>(layer);
    ctx->saved_data["autocast"] = at::autocast::is_autocast_enabled(type);
    ctx->saved_data["autocast_dtype"] = at::autocast::get_autocast_dtype(type);
    ctx->saved_data["rng"] = default_generator(x).get_state();  // LoRA dropout draws the same masks in the rerun
    // The mask (often undefined, which an autograd input may not be) needs no gradient: kept as data.
    ctx->saved_data["mask"] = *mask;
    ctx->save_for_backward({x, cos, sin});
    torch::NoGradGuard no_grad;
    return layer->forward(x, {cos, sin}, *mask);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    auto* layer = reinterpret_cast<LlamaDecoderLayerImpl*>(ctx->saved_data["layer"].toInt());
    auto x = saved[0].detach().requires_grad_(true);
    const auto type = x.device().type();
    const bool was_on = at::autocast::is_autocast_enabled(type);
    const auto was_dtype = at::autocast::get_autocast_dtype(type);
    at::autocast::set_autocast_enabled(type, ctx->saved_data["autocast"].toBool());
    at::autocast::set_autocast_dtype(type, ctx->saved_data["autocast_dtype"].toScalarType());
    torch::Tensor y;
    {
      torch::AutoGradMode grad(true);
      auto generator = default_generator(x);
      const auto now = generator.get_state();
      generator.set_state(ctx->saved_data["rng"].toTensor());
      y = layer->forward(x, {saved[1], saved[2]}, ctx->saved_data["mask"].toTensor());
      generator.set_state(now);  // the backward's own position in the stream, as if the rerun drew nothing
    }
    // The rerun's casts of the weights sit in this thread's autocast cache, which knows nothing of the
    // optimizer's in-place updates: drop them, or the next step's rerun would read stale weights.
    if (ctx->saved_data["autocast"].toBool()) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(type, was_on);
    at::autocast::set_autocast_dtype(type, was_dtype);
    torch::autograd::backward({y}, {grad_outputs[0]});
    return {x.grad(), torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

LlamaModelImpl::LlamaModelImpl(const LlamaConfig& c) {
  embed_tokens = register_module("embed_tokens", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layers->push_back(LlamaDecoderLayer(c));
  norm = register_module("norm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  inv_freq_ = register_buffer("inv_freq", rope_inverse_frequencies(c));
}

RotaryTables LlamaModelImpl::rotary_tables(const torch::Tensor& position_ids, torch::ScalarType dtype) const {
  // [B|1, T, 1] * [D/2] -> [B|1, T, D/2], in fp32 as transformers does (autocast off there too).
  auto freqs = position_ids.to(torch::kFloat32).unsqueeze(-1) * inv_freq_.to(torch::kFloat32);
  auto emb = torch::cat({freqs, freqs}, /*dim=*/-1);  // [B|1, T, D]
  return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

torch::Tensor LlamaModelImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& position_ids, const torch::Tensor& mask) {
  return forward_embeddings(embed_tokens(input_ids), position_ids, mask);
}

torch::Tensor LlamaModelImpl::forward_embeddings(const torch::Tensor& embeds, const torch::Tensor& position_ids,
                                                 const torch::Tensor& mask) {
  auto positions = position_ids.defined()
                       ? position_ids
                       : torch::arange(embeds.size(1), torch::TensorOptions().dtype(torch::kInt64).device(embeds.device())).unsqueeze(0);
  auto h = embeds;  // [B, T, H]
  const auto rope = rotary_tables(positions, h.scalar_type());
  // Checkpointing needs an input that requires grad: otherwise the autograd function is not recorded and
  // the rerun (which is what accumulates the layer's parameter gradients) would never happen. A frozen
  // embedding (LoRA) gives none, so its output is made to require one, as transformers'
  // enable_input_require_grads() does for PEFT.
  const bool checkpoint = checkpoint_layers && torch::GradMode::is_enabled();
  if (checkpoint && !h.requires_grad()) h = h.detach().requires_grad_(true);
  for (const auto& layer : *layers) {
    auto* decoder = layer->as<LlamaDecoderLayer>();
    h = checkpoint ? CheckpointedLayer::apply(h, rope.cos, rope.sin, &mask, decoder) : decoder->forward(h, rope, mask);
  }
  return norm(h);
}

torch::Tensor LlamaModelImpl::forward_cached(const torch::Tensor& input_ids, const torch::Tensor& position_ids,
                                             std::vector<LayerCache>& caches, const torch::Tensor& mask) {
  if (caches.empty()) caches.resize(layers->size());
  auto h = embed_tokens(input_ids);  // [B, Tq, H]
  const auto rope = rotary_tables(position_ids, h.scalar_type());
  for (size_t i = 0; i < layers->size(); ++i) h = layers[i]->as<LlamaDecoderLayer>()->forward_cached(h, rope, caches[i], mask);
  return norm(h);
}

LlamaForCausalLMImpl::LlamaForCausalLMImpl(const LlamaConfig& c) : config_(c) {
  model = register_module("model", LlamaModel(c));
  if (!c.tie_word_embeddings)
    lm_head = register_module("lm_head", torch::nn::Linear(torch::nn::LinearOptions(c.hidden_size, c.vocab_size).bias(false)));
}

torch::Tensor LlamaForCausalLMImpl::output_weight() const {
  return lm_head ? lm_head->weight : model->embed_tokens->weight;
}

torch::Tensor LlamaForCausalLMImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& position_ids,
                                            const torch::Tensor& mask) {
  return F::linear(model(input_ids, position_ids, mask), output_weight());  // [B, T, V]
}

std::string attention_kernel(const LlamaConfig& c, torch::Device device, torch::ScalarType dtype, int64_t seq_len) {
  const auto opts = torch::TensorOptions().dtype(dtype).device(device).requires_grad(true);
  // q in the layout the model hands over: [B, T, H, D] memory seen as [B, H, T, D].
  auto q = torch::empty({1, seq_len, c.num_attention_heads, c.head_dim}, opts).transpose(1, 2);
  auto k = torch::empty({1, c.num_key_value_heads, seq_len, c.head_dim}, opts), v = torch::empty_like(k);
  const auto choice = static_cast<at::SDPBackend>(at::_fused_sdp_choice(
      q, k, v, /*attn_mask=*/std::nullopt, /*dropout_p=*/0.0, /*is_causal=*/c.causal, /*scale=*/std::nullopt,
      /*enable_gqa=*/c.num_key_value_heads != c.num_attention_heads));
  switch (choice) {
    case at::SDPBackend::math: return "math";
    case at::SDPBackend::flash_attention: return "flash";
    case at::SDPBackend::efficient_attention: return "efficient";
    case at::SDPBackend::cudnn_attention: return "cudnn";
    case at::SDPBackend::overrideable: return "overrideable";
    case at::SDPBackend::error: break;
  }
  return "none";
}

std::vector<std::pair<std::string, std::vector<int64_t>>> llama_parameter_shapes(const LlamaConfig& c) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  auto linear = [&](const std::string& name, int64_t in, int64_t out_features, bool bias) {
    out.push_back({name + ".weight", {out_features, in}});
    if (bias) out.push_back({name + ".bias", {out_features}});
  };
  const int64_t q = c.num_attention_heads * c.head_dim, kv = c.num_key_value_heads * c.head_dim;
  out.push_back({"model.embed_tokens.weight", {c.vocab_size, c.hidden_size}});
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = fmt::format("model.layers.{}.", i);
    linear(p + "self_attn.q_proj", c.hidden_size, q, c.qkv_bias);
    linear(p + "self_attn.k_proj", c.hidden_size, kv, c.qkv_bias);
    linear(p + "self_attn.v_proj", c.hidden_size, kv, c.qkv_bias);
    linear(p + "self_attn.o_proj", q, c.hidden_size, c.o_bias);
    linear(p + "mlp.gate_proj", c.hidden_size, c.intermediate_size, c.mlp_bias);
    linear(p + "mlp.up_proj", c.hidden_size, c.intermediate_size, c.mlp_bias);
    linear(p + "mlp.down_proj", c.intermediate_size, c.hidden_size, c.mlp_bias);
    out.push_back({p + "input_layernorm.weight", {c.hidden_size}});
    out.push_back({p + "post_attention_layernorm.weight", {c.hidden_size}});
  }
  out.push_back({"model.norm.weight", {c.hidden_size}});
  if (!c.tie_word_embeddings) out.push_back({"lm_head.weight", {c.vocab_size, c.hidden_size}});
  return out;
}

void init_parameters(torch::nn::Module& module, double std, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& item : module.named_parameters()) {
    const std::string& name = item.key();
    auto& p = item.value();
    const bool is_norm = name.find("norm.weight") != std::string::npos;
    const bool is_bias = name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
    p.copy_(is_norm ? torch::ones(p.sizes()) : is_bias ? torch::zeros(p.sizes()) : at::normal(0.0, std, p.sizes(), gen));
  }
}

}  // namespace st
