// trainer/sampled_penalty.h — the `sampled` safety penalty: sample continuations of a batch's prompts
// with the KV cache, decode them, score the text with the frozen classifier (through its own tokenizer,
// so any classifier works), and return a REINFORCE surrogate whose gradient is that of the expected
// penalty: sum_i (penalty_i - baseline) * log pi(sample_i | prompt_i).
#pragma once

#include <torch/types.h>

#include <vector>

#include "data/batcher.h"
#include "data/tokenizer.h"
#include "models/llama.h"
#include "trainer/eval/evaluation.h"

namespace st {

struct SampledPenaltyOptions {
  double temperature = 1.0;       // sampling temperature; log pi is taken under the same softmax(logits / T)
  int64_t max_new_tokens = 32;
  double baseline_momentum = 0.9; // the running mean baseline: b <- m * b + (1 - m) * mean penalty of a step
};

struct SampledPenalty {
  torch::Tensor surrogate;        // scalar: sum over samples of (penalty - baseline) * log pi; undefined without grad
  std::vector<double> penalty;    // -log(1 - P(toxic)) per sample
  std::vector<double> p_toxic;    // P(toxic) per sample
};

// rows [P] int64: the batch rows to sample for (each has a prompt and a response). With `need_grad`
// false only the penalties are measured (λ = 0), and no graph is built. A NaN baseline (no running mean
// yet) means this batch's mean penalty.
SampledPenalty sampled_penalty(LlamaForCausalLM& model, const Batch& batch, const torch::Tensor& rows, TextScorer& scorer,
                               const Tokenizer& tokenizer, const SampledPenaltyOptions& options, double baseline,
                               uint64_t seed, bool need_grad);

}  // namespace st
