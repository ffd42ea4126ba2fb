// losses/sampled_estimator.h — the `sampled` safety penalty: sample continuations of a batch's prompts with
// the KV cache, decode them, score the text with a frozen scorer (a classifier through its own tokenizer, so
// any classifier works, or an LM harm judge, which reads the decoded prompt too), and return a REINFORCE
// surrogate whose gradient is that of the expected penalty:
// sum_i (penalty_i - baseline) * log pi(sample_i | prompt_i), with a running-mean baseline.
#pragma once

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "losses/penalty_estimator.h"
#include "models/classifier_scoring.h"

namespace st {

struct SampledPenaltyOptions {
  double temperature = 1.0;       // sampling temperature; log pi is taken under the same softmax(logits / T)
  int64_t max_new_tokens = 32;
  double baseline_momentum = 0.9; // the running mean baseline: b <- m * b + (1 - m) * mean penalty of a step
};

// The language model's tokens as text, and the ids that end and pad its sequences.
struct LmVocabulary {
  std::function<std::string(const std::vector<int>&)> decode;
  int eos_id = 0, pad_id = 0;
};

struct SampledPenalty {
  torch::Tensor surrogate;        // scalar: sum over samples of (penalty - baseline) * log pi; undefined without grad
  std::vector<double> penalty;    // -log(1 - P(toxic)) per sample
  std::vector<double> p_toxic;    // P(toxic) per sample
};

// rows [P] int64: the rows of input_ids/labels [B, T] (CPU) to sample for (each has a prompt and a
// response). With `need_grad` false only the penalties are measured (λ = 0), and no graph is built. A NaN
// baseline (no running mean yet) means this batch's mean penalty.
SampledPenalty sampled_penalty(LlamaForCausalLM& model, const torch::Tensor& input_ids, const torch::Tensor& labels,
                               const torch::Tensor& rows, TextScorer& scorer, const LmVocabulary& vocabulary,
                               const SampledPenaltyOptions& options, double baseline, uint64_t seed, bool need_grad);

class SampledEstimator : public PenaltyEstimator {
 public:
  SampledEstimator(std::shared_ptr<TextScorer> scorer, LmVocabulary vocabulary, SampledPenaltyOptions options)
      : scorer_(std::move(scorer)), vocabulary_(std::move(vocabulary)), options_(options) {}
  torch::Tensor penalize(const PenaltyInputs& in, PenaltySums& sums) override;
  void end_step(double mean_penalty) override;
  std::vector<torch::nn::Module*> frozen_modules() override { return scorer_->frozen_modules(); }
  nlohmann::json state() const override;
  void load_state(const nlohmann::json& state, const std::string& label) override;

 private:
  std::shared_ptr<TextScorer> scorer_;  // shared with the evaluations when they read the same scorer
  LmVocabulary vocabulary_;
  SampledPenaltyOptions options_;
  double baseline_ = std::nan("");  // running mean of the step's penalty (NaN = none yet)
};

}  // namespace st
