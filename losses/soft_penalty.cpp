// losses/soft_penalty.cpp — expected embeddings through the frozen classifier.
#include "losses/soft_penalty.h"

#include <torch/nn/functional/activation.h>

#include "common/check.h"
#include "common/tokens.h"
#include "losses/chunked_lm_loss.h"

namespace st {
namespace F = torch::nn::functional;

torch::Tensor expected_embeddings(const torch::Tensor& logits, const torch::Tensor& matrix, double temperature) {
  check_penalty_vocabulary(logits.size(-1), matrix);
  return torch::matmul(torch::softmax(logits.to(matrix.scalar_type()) / temperature, /*dim=*/-1), matrix);
}

SoftPenalty soft_penalty_from_embeddings(const torch::Tensor& embeddings, const torch::Tensor& labels,
                                         ToxicityClassifier& classifier) {
  // Position t predicts token t + 1: it is scored when that token belongs to a response.
  const auto l = labels.to(embeddings.device());
  auto mask = torch::zeros_like(l, torch::kBool);                                                 // [B, T]
  mask.narrow(1, 0, l.size(1) - 1).copy_(l.narrow(1, 1, l.size(1) - 1).ne(kIgnoreIndex));
  auto has_response = mask.any(/*dim=*/1);                                                        // [B]
  // A row with no response would mask every key (NaN attention); let it attend anywhere, then drop it.
  auto attend = mask.logical_or(has_response.logical_not().unsqueeze(1));                         // [B, T]
  auto logit = classifier->forward_embeddings(embeddings, attend).select(/*dim=*/1, /*index=*/0);  // [B]
  auto per_sequence = F::softplus(logit) * has_response.to(logit.scalar_type());                  // -log(1 - sigmoid)
  auto count = has_response.sum().clamp_min(1).to(logit.scalar_type());
  SoftPenalty out;
  out.penalty = per_sequence.sum() / count;
  out.p_toxic = (torch::sigmoid(logit) * has_response.to(logit.scalar_type())).detach();
  out.has_response = has_response;
  return out;
}

SoftPenalty soft_penalty(const torch::Tensor& logits, const torch::Tensor& labels, ToxicityClassifier& classifier,
                         double temperature) {
  return soft_penalty_from_embeddings(expected_embeddings(logits, classifier->embedding_matrix(), temperature), labels,
                                      classifier);
}

}  // namespace st
