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
#include "trainer/text_scorer.h"

namespace st {

// What building an estimator may need besides the config.
struct EstimatorContext {
  const RunConfig& config;
  torch::Device device;
  const Tokenizer& tokenizer;  // the language model's (its vocabulary is what the soft estimator's classifier must share)
  const LlamaConfig& model_config;
  std::shared_ptr<TextScorer> text_scorer = nullptr;  // already open (shared with the evaluations); else the sampled estimator opens its own
};

// What the run scores its penalty with (text_scorer.h): safety.classifier, else safety.harm_judge.model, else nothing.
inline ScorerSource penalty_scorer_source(const RunConfig& config) {
  return penalty_scorer_source(config.safety.classifier, config.safety.harm_judge);
}

// The configured estimator, or null when neither a classifier nor a harm judge is set (no penalty, nothing
// measured).
std::unique_ptr<PenaltyEstimator> make_penalty_estimator(const EstimatorContext& context);

}  // namespace st
