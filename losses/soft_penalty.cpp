// losses/soft_penalty.cpp — expected embeddings through the frozen classifier.
#include "losses/soft_penalty.h"

#include <torch/nn/functional/activation.h>

#include "common/check.h"
#include "common/tokens.h"

namespace st {
namespace F = torch::nn::functional;

SoftPenalty soft_penalty(const torch::Tensor& logits, const torch::Tensor& labels, ToxicityClassifier& classifier,
                         double temperature) {
  const auto W = classifier->embedding_matrix();  // [V, H], frozen
  ST_CHECK(logits.size(-1) == W.size(0), "soft penalty: language model vocabulary ({}) differs from the classifier's ({})",
           logits.size(-1), W.size(0));
  // Position t predicts token t + 1: it is scored when that token belongs to a response.
  auto mask = torch::zeros_like(labels, torch::kBool);                                   // [B, T]
  mask.narrow(1, 0, labels.size(1) - 1).copy_(labels.narrow(1, 1, labels.size(1) - 1).ne(kIgnoreIndex));
  auto has_response = mask.any(/*dim=*/1);                                                // [B]
  // A row with no response would mask every key (NaN attention); let it attend anywhere, then drop it.
  auto attend = mask.logical_or(has_response.logical_not().unsqueeze(1));                 // [B, T]
  auto probs = torch::softmax(logits.to(W.scalar_type()) / temperature, /*dim=*/-1);     // [B, T, V]
  auto embeds = torch::matmul(probs, W);                                                  // [B, T, H]
  auto logit = classifier->forward_embeddings(embeds, attend).select(/*dim=*/1, /*index=*/0);  // [B]
  auto per_sequence = F::softplus(logit) * has_response.to(logit.scalar_type());          // -log(1 - sigmoid)
  auto count = has_response.sum().clamp_min(1).to(logit.scalar_type());
  SoftPenalty out;
  out.penalty = per_sequence.sum() / count;
  out.p_toxic = (torch::sigmoid(logit) * has_response.to(logit.scalar_type())).detach();
  out.has_response = has_response;
  return out;
}

}  // namespace st
