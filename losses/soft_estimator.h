// losses/soft_estimator.h — the `soft` penalty: the frozen classifier reads the model's expected token
// embeddings, softmax(logits / τ) @ E, at the response positions (losses/soft_penalty.h). Exact and
// differentiable, but the classifier must share the language model's vocabulary.
#pragma once

#include "losses/penalty_estimator.h"
#include "models/toxicity_classifier.h"

namespace st {

class SoftEstimator : public PenaltyEstimator {
 public:
  SoftEstimator(ToxicityClassifier classifier, double temperature)
      : classifier_(std::move(classifier)), temperature_(temperature) {}
  std::optional<ExpectedEmbeddingsRequest> embeddings_request(bool differentiable) const override;
  torch::Tensor penalize(const PenaltyInputs& in, PenaltySums& sums) override;
  std::vector<torch::nn::Module*> frozen_modules() override { return {classifier_.ptr().get()}; }

 private:
  ToxicityClassifier classifier_;
  double temperature_;
};

}  // namespace st
