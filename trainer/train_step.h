// trainer/train_step.h — one optimizer step over a list of micro-batches, and validation CE. Kept apart
// from the run (trainer/training_run.h) so tests can drive it with fixed batches.
#pragma once

#include <vector>

#include "data/batcher.h"
#include "losses/penalty_estimator.h"
#include "models/llama.h"
#include "trainer/communicator.h"
#include "trainer/optimizer.h"
#include "trainer/run_config.h"

namespace st {

struct StepOptions {
  double lr = 0;
  double max_grad_norm = 1.0;  // 0 disables clipping (the norm is still measured)
  double lambda = 0;           // weight of the safety penalty
  PenaltyEstimator* estimator = nullptr;  // null = no penalty
  uint64_t penalty_seed = 0;   // this step's seed, for estimators that sample
  PenalizedRows penalize = PenalizedRows::All;  // which rows the penalty scores
  double safety_loss_weight = 1.0;  // CE weight of safety-mix rows relative to task rows
  Communicator* communicator = nullptr;  // null or one process: nothing to reduce
  int64_t first_micro_batch = 0;  // this process's first micro-batch in the step's global order (penalty seeds)
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
  int64_t input_tokens = 0;  // every token the step processed (no padding)
  int64_t safety_rows = 0;  // safety-mix examples in the step
  double comm_s = 0;     // seconds in the step's collectives (counts, gradients, sums), waits included
  bool finite = true;    // false: loss or gradient was NaN/Inf and no update was applied
};

// Phases: (1) count the step's (weighted) loss tokens and penalized sequences over all processes, (2) per
// micro-batch forward, CE sum / step tokens plus λ · penalty sum / step sequences (so accumulation, and W
// processes, equal one big batch), backward, (3) sum the gradients over processes, measure and clip their
// norm (as torch.nn.utils.clip_grad_norm_), (4) AdamW update unless something was not finite. Gradients are cleared at the end either way. The estimator sees
// the step's mean penalty when it scored any row. Every number in the result is the step's over all
// processes, so each process takes the same decisions.
StepResult train_step(LlamaForCausalLM& model, AdamW& optimizer, const std::vector<Batch>& micro_batches,
                      const StepOptions& options);

struct EvalResult {
  double ce = 0;
  int64_t tokens = 0;
};
EvalResult evaluate_ce(LlamaForCausalLM& model, const std::vector<Batch>& batches);

}  // namespace st
