// trainer/sampled_penalty.cpp — REINFORCE with a running-mean baseline over sampled continuations.
#include "trainer/sampled_penalty.h"

#include <algorithm>
#include <cmath>

#include "common/tokens.h"
#include "models/generation.h"

namespace st {

SampledPenalty sampled_penalty(LlamaForCausalLM& model, const Batch& batch, const torch::Tensor& rows, TextScorer& scorer,
                               const Tokenizer& tokenizer, const SampledPenaltyOptions& options, double baseline,
                               uint64_t seed, bool need_grad) {
  const auto device = model->parameters().front().device();
  // 1. each row's prompt: the tokens before its first response label
  std::vector<std::vector<int>> prompts;
  auto ids = batch.input_ids.to(torch::kCPU).contiguous();
  auto labels = batch.labels.to(torch::kCPU).contiguous();
  auto ids_a = ids.accessor<int64_t, 2>();
  auto labels_a = labels.accessor<int64_t, 2>();
  auto rows_cpu = rows.to(torch::kCPU).contiguous();
  auto rows_a = rows_cpu.accessor<int64_t, 1>();
  for (int64_t i = 0; i < rows_cpu.numel(); ++i) {
    const int64_t b = rows_a[i];
    std::vector<int> prompt;
    for (int64_t t = 0; t < ids.size(1) && labels_a[b][t] == kIgnoreIndex; ++t) prompt.push_back(static_cast<int>(ids_a[b][t]));
    prompts.push_back(std::move(prompt));
  }
  // 2. sample continuations (seeded: the same step samples the same text after a resume)
  GenerationOptions gen;
  gen.max_new_tokens = options.max_new_tokens;
  gen.temperature = options.temperature;
  gen.seed = seed;
  gen.stop_ids = {tokenizer.eos_id()};
  const auto samples = generate(model, prompts, gen, tokenizer.pad_id());
  // 3. score the decoded text with the classifier's own tokenizer
  std::vector<std::string> texts;
  for (const auto& s : samples) texts.push_back(tokenizer.decode(s));
  SampledPenalty out;
  out.p_toxic = scorer.score(texts);
  for (double p : out.p_toxic) out.penalty.push_back(-std::log1p(-std::min(p, 1.0 - 1e-7)));
  if (!need_grad) return out;

  // 4. log pi(sample | prompt) under softmax(logits / T), with gradients, for the surrogate
  std::vector<Example> sequences(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    sequences[i].input_ids = prompts[i];
    sequences[i].labels.assign(prompts[i].size(), static_cast<int>(kIgnoreIndex));
    sequences[i].input_ids.insert(sequences[i].input_ids.end(), samples[i].begin(), samples[i].end());
    sequences[i].labels.insert(sequences[i].labels.end(), samples[i].begin(), samples[i].end());
  }
  std::vector<const Example*> ptrs;
  for (const auto& s : sequences) ptrs.push_back(&s);
  const Batch sampled = collate(ptrs, tokenizer.pad_id());
  auto logits = model(sampled.input_ids.to(device));  // [P, T, V]
  const int64_t T = logits.size(1);
  auto logp = torch::log_softmax(logits.narrow(1, 0, T - 1).to(torch::kFloat32) / options.temperature, /*dim=*/-1);  // [P, T-1, V]
  auto target = sampled.labels.narrow(1, 1, T - 1).to(device);                                                        // [P, T-1]
  auto mask = target.ne(kIgnoreIndex);
  auto token_logp = logp.gather(/*dim=*/2, target.clamp_min(0).unsqueeze(2)).squeeze(2) * mask.to(torch::kFloat32);  // [P, T-1]
  if (std::isnan(baseline)) {  // no running mean yet (the run's first step): this batch's mean
    baseline = 0;
    for (double p : out.penalty) baseline += p / static_cast<double>(out.penalty.size());
  }
  std::vector<double> advantage;
  for (double p : out.penalty) advantage.push_back(p - baseline);
  auto adv = torch::tensor(advantage, torch::kFloat64).to(device, torch::kFloat32);  // [P]
  out.surrogate = (adv * token_logp.sum(/*dim=*/1)).sum();
  return out;
}

}  // namespace st
