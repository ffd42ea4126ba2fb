// trainer/train_step.h — one optimizer step over a list of micro-batches, and validation CE. Kept apart
// from the run orchestration (cmd_train.cpp) so tests can drive it with fixed batches.
#pragma once

#include <string>
#include <vector>

#include "data/batcher.h"
#include "models/llama.h"
#include "models/toxicity_classifier.h"
#include "trainer/optimizer.h"
#include "trainer/sampled_penalty.h"

namespace st {

struct StepOptions {
  double lr = 0;
  double max_grad_norm = 1.0;  // 0 disables clipping (the norm is still measured)
  double lambda = 0;           // weight of the safety penalty
  std::string estimator = "soft";            // soft | sampled
  ToxicityClassifier* classifier = nullptr;  // soft: the frozen classifier; null = no penalty
  double temperature = 1.0;    // τ of the soft penalty
  TextScorer* scorer = nullptr;              // sampled: the frozen classifier with its own tokenizer
  const Tokenizer* tokenizer = nullptr;      // sampled: decodes the samples
  SampledPenaltyOptions sample;
  double baseline = 0;                       // sampled: the running-mean baseline (NaN = none yet)
  uint64_t sample_seed = 0;                  // sampled: this step's seed
  std::string penalize = "all";  // which rows the penalty scores: all | task | safety_mix
  double safety_loss_weight = 1.0;  // CE weight of safety-mix rows relative to task rows
  int64_t ce_chunk = 0;  // > 0: CE (and the soft penalty's input) from hidden states in chunks of this many
                         // positions, never the full logits
};

struct StepResult {
  double loss = 0;       // ce + lambda * penalty
  double ce = 0;         // token-weighted over the whole step
  double penalty = 0;    // mean over penalized sequences of -log(1 - P(toxic))
  double p_toxic = 0;    // mean P(toxic) over penalized sequences (what the adaptive λ controller sees)
  int64_t penalized = 0; // sequences with a response in the step
  double grad_norm = 0;  // before clipping
  int64_t tokens = 0;    // loss tokens in the step
  int64_t safety_rows = 0;  // safety-mix examples in the step
  bool finite = true;    // false: loss or gradient was NaN/Inf and no update was applied
};

// Phases: (1) count the step's (weighted) loss tokens and penalized sequences, (2) per micro-batch
// forward, CE sum / step tokens plus λ · penalty sum / step sequences (so accumulation equals one big
// batch), backward,
// (3) measure and clip the gradient norm (as torch.nn.utils.clip_grad_norm_), (4) AdamW update unless
// something was not finite. Gradients are cleared at the end either way.
StepResult train_step(LlamaForCausalLM& model, AdamW& optimizer, const std::vector<Batch>& micro_batches,
                      const StepOptions& options);

// Total L2 norm of the gradients of `params` (as torch.nn.utils.clip_grad_norm_ measures it) and, when
// max_norm > 0, scales them to at most max_norm. Returns the norm before clipping, on the gradients'
// device (reading it is the caller's host sync).
torch::Tensor clip_gradients(const NamedTensors& params, double max_norm);

struct EvalResult {
  double ce = 0;
  int64_t tokens = 0;
};
EvalResult evaluate_ce(LlamaForCausalLM& model, const std::vector<Batch>& batches);

}  // namespace st
