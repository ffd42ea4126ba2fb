// trainer/penalty_estimators.h — the registry that turns `safety.estimator` into a PenaltyEstimator
// (losses/penalty_estimator.h), loading the frozen classifier (or harm judge) the way that estimator reads it.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>

#include "data/tokenizer.h"
#include "losses/penalty_estimator.h"
#include "models/classifier_scoring.h"
#include "models/llama_config.h"
#include "trainer/run_config.h"

namespace st {

// What building an estimator may need besides the config.
struct EstimatorContext {
  const RunConfig& config;
  torch::Device device;
  const Tokenizer& tokenizer;  // the language model's (its vocabulary is what the soft estimator's classifier must share)
  const LlamaConfig& model_config;
  std::shared_ptr<TextScorer> text_scorer = nullptr;  // already open (shared with the evaluations); else the sampled estimator opens its own
};

// Whether the run has something to score its penalty with: safety.classifier, or safety.harm_judge.model.
inline bool has_penalty_scorer(const RunConfig& config) {
  return !config.safety.classifier.empty() || !config.safety.harm_judge.model.empty();
}

// The configured estimator, or null when neither a classifier nor a harm judge is set (no penalty, nothing
// measured). Both set: the penalty reads the classifier (the judge measures the evaluations).
std::unique_ptr<PenaltyEstimator> make_penalty_estimator(const EstimatorContext& context);

}  // namespace st
