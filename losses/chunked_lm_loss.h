// losses/chunked_lm_loss.h — next-token cross-entropy straight from the final hidden states and the
// output projection, a chunk of positions at a time, so the [B, T, V] logits never exist in full. The
// forward also computes the gradients for the hidden states and the weight (a fused linear
// cross-entropy), so the logits matmul runs once and the backward is two scalings. At TinyLlama's shape
// (V = 32000, T = 2048) the full fp32 logits of one sequence are 262 MB, plus as much again for their
// gradient; chunks of 1024 positions need 131 MB at most, plus the [V, H] fp32 weight gradient.
#pragma once

#include <torch/types.h>

#include "losses/causal_lm_loss.h"

namespace st {

// hidden [B, T, H] (the decoder's normed output), weight [V, H] (lm_head or the tied embedding),
// labels [B, T] aligned with the inputs as in causal_lm_loss, row_weights [B] optional. Returns the same
// sum and count as causal_lm_loss(hidden @ weight^T, labels, row_weights), with gradients for hidden and
// weight. The matmuls run in autocast's dtype when autocast is on (else `hidden`'s); softmax is fp32.
// The gradients are computed for an upstream gradient that is a scalar (the loss is a sum).
TokenLoss chunked_causal_lm_loss(const torch::Tensor& hidden, const torch::Tensor& weight, const torch::Tensor& labels,
                                 int64_t chunk_positions = 1024, const torch::Tensor& row_weights = {});

}  // namespace st
