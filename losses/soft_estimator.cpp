// losses/soft_estimator.cpp — the soft penalty over a micro-batch's scored rows.
#include "losses/soft_estimator.h"

#include "common/device_copy.h"
#include "losses/soft_penalty.h"

namespace st {

std::optional<ExpectedEmbeddingsRequest> SoftEstimator::embeddings_request(bool differentiable) const {
  return ExpectedEmbeddingsRequest{classifier_->embedding_matrix(), temperature_, differentiable};
}

torch::Tensor SoftEstimator::penalize(const PenaltyInputs& in, PenaltySums& sums) {
  const bool all_rows = in.rows.numel() == in.labels.size(0);
  const auto rows = to_device(in.rows, in.embeddings.device());
  torch::AutoGradMode grad_mode(in.differentiable);
  const auto sp = soft_penalty_from_embeddings(all_rows ? in.embeddings : in.embeddings.index_select(/*dim=*/0, rows),
                                               all_rows ? in.device_labels : in.device_labels.index_select(0, rows),
                                               classifier_);
  const auto batch_sum = sp.penalty * sp.has_response.sum();  // mean -> sum over this batch's sequences
  sums.penalty += batch_sum.detach();
  sums.p_toxic += sp.p_toxic.sum();
  return in.differentiable ? batch_sum : torch::Tensor();
}

}  // namespace st
