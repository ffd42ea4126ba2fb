// trainer/penalty_estimators.h — the registry that turns `safety.estimator` into a PenaltyEstimator
// (losses/penalty_estimator.h), loading the frozen classifier the way that estimator reads it.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>

#include "data/tokenizer.h"
#include "losses/penalty_estimator.h"
#include "models/llama_config.h"
#include "trainer/run_config.h"

namespace st {

// What building an estimator may need besides the config.
struct EstimatorContext {
  const RunConfig& config;
  torch::Device device;
  const Tokenizer& tokenizer;  // the language model's (its vocabulary is what the soft estimator's classifier must share)
  const LlamaConfig& model_config;
};

// The configured estimator, or null when no classifier is set (no penalty, nothing measured).
std::unique_ptr<PenaltyEstimator> make_penalty_estimator(const EstimatorContext& context);

}  // namespace st
