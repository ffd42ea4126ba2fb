// losses/causal_lm_loss.h — next-token cross-entropy over the unmasked positions of a batch, returned as
// a sum and a token count so micro-batches can be combined token-weighted (equal to one big batch).
#pragma once

#include <torch/types.h>

#include "common/tokens.h"

namespace st {

struct TokenLoss {
  torch::Tensor sum;    // scalar fp32: sum of per-token CE
  torch::Tensor count;  // scalar int64: number of tokens in the sum
  // Mean over tokens; 0 (with a zero gradient) when every token is masked, never NaN.
  torch::Tensor mean() const;
};

// logits [B, T, V], labels [B, T] aligned with the inputs (transformers convention): position t's
// logits are scored against labels[t + 1]. Computed in fp32 (fp64 for fp64 logits) whatever the logits dtype. row_weights [B],
// when given, scales each row's token losses in `sum` (e.g. a loss weight for safety examples); `count`
// stays the plain token count.
TokenLoss causal_lm_loss(const torch::Tensor& logits, const torch::Tensor& labels, const torch::Tensor& row_weights = {});

}  // namespace st
