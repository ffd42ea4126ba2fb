// models/generation.cpp — prefill + cached decoding with left padding.
#include "models/generation.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

#include "common/check.h"

namespace st {

namespace {
// Next token per row from logits [B, V]: argmax, or a draw from the top-p nucleus at the temperature.
torch::Tensor pick(const torch::Tensor& logits, const GenerationOptions& o, at::Generator& gen) {
  if (o.temperature <= 0) return logits.argmax(/*dim=*/-1);
  auto probs = torch::softmax(logits.to(torch::kFloat32) / o.temperature, /*dim=*/-1);  // [B, V]
  if (o.top_p < 1.0) {
    auto [sorted, order] = probs.sort(/*dim=*/-1, /*descending=*/true);
    auto outside = (sorted.cumsum(/*dim=*/-1) - sorted) > o.top_p;  // keep the smallest set reaching top_p
    sorted.masked_fill_(outside, 0.0);
    probs = torch::zeros_like(probs).scatter_(/*dim=*/-1, order, sorted);
  }
  return at::multinomial(probs.cpu(), /*num_samples=*/1, /*replacement=*/false, gen).squeeze(-1).to(logits.device());
}
}  // namespace

std::vector<std::vector<int>> generate(LlamaForCausalLM& model, const std::vector<std::vector<int>>& prompts,
                                       const GenerationOptions& o, int pad_id) {
  ST_CHECK(!prompts.empty(), "generate: no prompts");
  torch::NoGradGuard no_grad;
  EvalModeGuard eval_mode(*model);
  const auto device = model->parameters().front().device();
  const int64_t B = static_cast<int64_t>(prompts.size());
  size_t longest = 0;
  for (const auto& p : prompts) {
    ST_CHECK_INPUT(!p.empty(), "generate: an empty prompt (it needs at least BOS)");
    longest = std::max(longest, p.size());
  }
  const int64_t L = static_cast<int64_t>(longest);
  // 1. left-padded batch: ids [B, L], key mask [B, L], positions counting real tokens from 0
  auto ids = torch::full({B, L}, pad_id, torch::kInt64);
  auto keys = torch::zeros({B, L}, torch::kBool);
  auto ids_a = ids.accessor<int64_t, 2>();
  auto keys_a = keys.accessor<bool, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = prompts[static_cast<size_t>(b)];
    const int64_t offset = L - static_cast<int64_t>(p.size());
    for (size_t t = 0; t < p.size(); ++t) {
      ids_a[b][offset + static_cast<int64_t>(t)] = p[t];
      keys_a[b][offset + static_cast<int64_t>(t)] = true;
    }
  }
  ids = ids.to(device);
  keys = keys.to(device);
  auto positions = (keys.to(torch::kInt64).cumsum(/*dim=*/1) - 1).clamp_min(0);  // [B, L]
  // Prefill mask [B, 1, L, L]: causal and not padding; a padding query sees itself only (its output is unused).
  auto causal = torch::ones({L, L}, torch::TensorOptions().dtype(torch::kBool).device(device)).tril();
  auto eye = torch::eye(L, torch::TensorOptions().dtype(torch::kBool).device(device));
  auto mask = (causal.unsqueeze(0) & keys.unsqueeze(1)) | eye.unsqueeze(0);

  std::vector<LayerCache> caches;
  auto hidden = model->model->forward_cached(ids, positions, caches, mask.unsqueeze(1));  // [B, L, H]
  auto logits = torch::nn::functional::linear(hidden.select(1, L - 1), model->output_weight());  // [B, V]
  auto gen = at::make_generator<at::CPUGeneratorImpl>(o.seed);
  auto next_position = positions.select(1, L - 1) + 1;  // [B]

  // 2. decode: one token per row per step, attending to every real key so far
  std::vector<std::vector<int>> out(static_cast<size_t>(B));
  std::vector<bool> done(static_cast<size_t>(B), false);
  for (int64_t step = 0; step < o.max_new_tokens; ++step) {
    auto token = pick(logits, o, gen);  // [B]
    auto token_cpu = token.cpu();
    bool all_done = true;
    for (int64_t b = 0; b < B; ++b) {
      if (done[static_cast<size_t>(b)]) continue;
      const int id = static_cast<int>(token_cpu[b].item<int64_t>());
      out[static_cast<size_t>(b)].push_back(id);
      done[static_cast<size_t>(b)] = std::find(o.stop_ids.begin(), o.stop_ids.end(), id) != o.stop_ids.end();
      all_done = all_done && done[static_cast<size_t>(b)];
    }
    if (all_done || step + 1 == o.max_new_tokens) break;
    keys = torch::cat({keys, torch::ones({B, 1}, keys.options())}, /*dim=*/1);  // [B, S]
    hidden = model->model->forward_cached(token.unsqueeze(1), next_position.unsqueeze(1), caches,
                                          keys.view({B, 1, 1, keys.size(1)}));
    logits = torch::nn::functional::linear(hidden.select(1, 0), model->output_weight());
    next_position = next_position + 1;
  }
  return out;
}

}  // namespace st
