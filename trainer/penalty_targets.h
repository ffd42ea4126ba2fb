// trainer/penalty_targets.h — what the safety penalty scores in one micro-batch: its rows, or, for packed rows,
// the examples cut out into rows of their own, so an estimator (which scores whole sequences) sees the same
// sequences in the same order as in the padded batch, and a packed step equals the padded step.
#pragma once

#include <torch/types.h>

#include "data/batcher.h"

namespace st {

struct PenaltyTargets {
  torch::Tensor input_ids, labels;  // [S, Ts] int64 on the CPU: the batch's own, or the examples cut out of packed rows
  torch::Tensor rows;               // [P] int64: the rows of input_ids/labels to score
  torch::Tensor source;             // packed only: [S, Ts] int64, where each position sits in the batch's flattened [B * T]
  int64_t count() const { return rows.numel(); }
};

// `scored` [B] bool: the batch rows the penalty reads, each with a loss token; of a packed row, only its
// examples that have one are scored.
PenaltyTargets penalty_targets(const Batch& batch, const torch::Tensor& scored);

// A per-position tensor of the batch's forward, [B, T, ...], as the targets' rows, [S, Ts, ...] (packed only).
torch::Tensor cut_positions(const torch::Tensor& per_position, const PenaltyTargets& targets);

}  // namespace st
