// losses/chunked_lm_loss.h — next-token cross-entropy, and optionally the soft penalty's expected
// embeddings, straight from the final hidden states and the output projection, a chunk of positions at a
// time, so the [B, T, V] logits never exist in full. Only positions that have a target are computed: a
// prompt or padding position costs nothing in the logits matmul. At TinyLlama's shape (V = 32000,
// T = 2048) the full fp32 logits of one sequence are 262 MB, plus as much again for their gradient and,
// for the soft penalty, its softmax; chunks of 1024 positions need 131 MB per buffer.
#pragma once

#include <torch/types.h>

#include "losses/causal_lm_loss.h"

namespace st {

// What the soft penalty reads (losses/soft_penalty.h): softmax(logits / τ) @ matrix per position.
struct ExpectedEmbeddingsRequest {
  torch::Tensor matrix;        // [V, Hc] the frozen classifier's token embeddings
  double temperature = 1.0;
  bool differentiable = true;  // false: the penalty is only measured, and gets no gradient
};

// Fails unless the language model's vocabulary (lm_vocab) is the classifier's, the rows of `matrix` [V, Hc].
void check_penalty_vocabulary(int64_t lm_vocab, const torch::Tensor& matrix);

struct ChunkedLmLoss {
  TokenLoss ce;
  // [B, T, Hc] in the matmuls' dtype, when requested: the expected embedding at every position whose next
  // token has a label, zeros elsewhere (the soft penalty masks those positions out).
  torch::Tensor embeddings;
};

// hidden [B, T, H] (the decoder's normed output), weight [V, H] (lm_head or the tied embedding),
// labels [B, T] aligned with the inputs as in causal_lm_loss, row_weights [B] optional. `labels` and
// `row_weights` may stay on the CPU: the positions to compute are found there, with no device sync.
// Returns the same sum and count as causal_lm_loss(hidden @ weight^T, labels, row_weights), with
// gradients for hidden and weight. The matmuls run in autocast's dtype when autocast is on (else
// `hidden`'s); softmax is fp32.
//
// Without embeddings (or with non-differentiable ones) this is a fused linear cross-entropy: the
// gradients are computed in the forward, so the logits matmul runs once, and the backward scales them by
// the upstream scalar. With differentiable embeddings the gradient also depends on the penalty's
// upstream gradient, so the backward recomputes each chunk's logits once and adds both terms.
ChunkedLmLoss chunked_causal_lm_loss(const torch::Tensor& hidden, const torch::Tensor& weight, const torch::Tensor& labels,
                                     int64_t chunk_positions = 1024, const torch::Tensor& row_weights = {},
                                     const ExpectedEmbeddingsRequest* embeddings = nullptr);

}  // namespace st
