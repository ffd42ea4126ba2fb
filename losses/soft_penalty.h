// losses/soft_penalty.h — the `soft` safety penalty: a differentiable stand-in for "what the model is
// learning to say". At every position whose next token is a response token, softmax(logits / τ) times the
// classifier's embedding matrix gives the expected input embedding; the frozen classifier reads that
// sequence (prompt positions masked out) and the penalty per sequence is -log(1 - P(toxic)), computed as
// softplus(logit) for stability, averaged over sequences that have a response. Gradients reach the
// language model's logits only; the classifier's parameters never require them.
#pragma once

#include <torch/types.h>

#include "models/toxicity_classifier.h"

namespace st {

struct SoftPenalty {
  torch::Tensor penalty;    // scalar: mean over sequences with a response of -log(1 - P(toxic))
  torch::Tensor p_toxic;    // [B] P(toxic) per sequence (detached), 0 where a sequence has no response
  torch::Tensor has_response;  // [B] bool
};

// softmax(logits / τ) @ matrix: the expected input embedding per position.                    // [B, T, Hc]
// logits [B, T, V], matrix [V, Hc] (the classifier's; the vocabularies must agree).
torch::Tensor expected_embeddings(const torch::Tensor& logits, const torch::Tensor& matrix, double temperature);

// The penalty from expected embeddings [B, T, Hc] (from expected_embeddings or, without full logits, from
// chunked_causal_lm_loss; positions outside responses are masked, so their values do not matter),
// labels [B, T] aligned with the inputs, kIgnoreIndex outside responses.
SoftPenalty soft_penalty_from_embeddings(const torch::Tensor& embeddings, const torch::Tensor& labels,
                                         ToxicityClassifier& classifier);

// Both in one: the penalty of logits [B, T, V].
SoftPenalty soft_penalty(const torch::Tensor& logits, const torch::Tensor& labels, ToxicityClassifier& classifier,
                         double temperature);

}  // namespace st
