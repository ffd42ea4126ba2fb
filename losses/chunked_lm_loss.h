// losses/chunked_lm_loss.h — next-token cross-entropy straight from the final hidden states and the
// output projection, a chunk of positions at a time, so the [B, T, V] logits never exist in full: the
// forward keeps only the hidden states, and the backward recomputes each chunk's logits. At TinyLlama's
// shape (V = 32000, T = 2048) the full fp32 logits of one sequence are 262 MB, plus as much again for
// their gradient; chunks of 1024 positions need 131 MB at most.
#pragma once

#include <torch/types.h>

#include "losses/causal_lm_loss.h"

namespace st {

// hidden [B, T, H] (the decoder's normed output), weight [V, H] (lm_head or the tied embedding),
// labels [B, T] aligned with the inputs as in causal_lm_loss, row_weights [B] optional. Returns the same
// sum and count as causal_lm_loss(hidden @ weight^T, labels, row_weights), with gradients for hidden and
// weight. The logits matmul runs in `hidden`'s dtype; log-softmax is fp32.
TokenLoss chunked_causal_lm_loss(const torch::Tensor& hidden, const torch::Tensor& weight, const torch::Tensor& labels,
                                 int64_t chunk_positions = 1024, const torch::Tensor& row_weights = {});

}  // namespace st
