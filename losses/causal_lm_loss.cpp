// losses/causal_lm_loss.cpp — masked, shifted cross-entropy.
#include "losses/causal_lm_loss.h"

#include <torch/nn/functional/loss.h>

namespace st {
namespace F = torch::nn::functional;

torch::Tensor TokenLoss::mean() const { return sum / count.clamp_min(1).to(sum.scalar_type()); }

TokenLoss causal_lm_loss(const torch::Tensor& logits, const torch::Tensor& labels, const torch::Tensor& row_weights) {
  const int64_t V = logits.size(-1);
  const auto dtype = logits.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;  // at least fp32
  auto shift_logits = logits.narrow(/*dim=*/1, /*start=*/0, logits.size(1) - 1).reshape({-1, V}).to(dtype);
  auto shift_labels = labels.narrow(/*dim=*/1, /*start=*/1, labels.size(1) - 1).reshape({-1});  // [B*(T-1)]
  if (row_weights.defined()) {
    auto per_token = F::cross_entropy(shift_logits, shift_labels,
                                      F::CrossEntropyFuncOptions().ignore_index(kIgnoreIndex).reduction(torch::kNone));
    auto weighted = per_token.view({labels.size(0), -1}) * row_weights.to(per_token.options()).unsqueeze(1);  // [B, T-1]
    return {weighted.sum(), shift_labels.ne(kIgnoreIndex).sum()};
  }
  auto sum = F::cross_entropy(shift_logits, shift_labels,
                              F::CrossEntropyFuncOptions().ignore_index(kIgnoreIndex).reduction(torch::kSum));
  return {sum, shift_labels.ne(kIgnoreIndex).sum()};
}

}  // namespace st
