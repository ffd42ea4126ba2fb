// losses/penalty_estimator.h — the safety penalty's interface. Given the rows of one micro-batch it
// scores, an estimator adds their penalties (-log(1 - P(toxic))) and P(toxic) to the step's sums and returns
// the sum of a differentiable objective whose gradient is that of the penalty. Implementations: `soft`
// (losses/soft_estimator.h) and `sampled` (losses/sampled_estimator.h); a new one is a new file plus one
// enum value and one line in the trainer's registry (trainer/penalty_estimators.cpp).
#pragma once

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/types.h>

#include <optional>
#include <string>
#include <vector>

#include "losses/chunked_lm_loss.h"
#include "models/llama.h"

namespace st {

// One micro-batch as an estimator sees it.
struct PenaltyInputs {
  LlamaForCausalLM* model = nullptr;
  torch::Tensor input_ids, labels;  // [B, T] int64 on the CPU
  torch::Tensor device_labels;      // [B, T] on the model's device, when embeddings were requested
  torch::Tensor embeddings;         // [B, T, Hc] the expected classifier embeddings, when requested
  torch::Tensor rows;               // [P] int64 on the CPU: the rows to score, each with a response
  uint64_t seed = 0;                // this micro-batch's seed, for estimators that sample
  bool differentiable = false;      // λ > 0: build the objective's graph; otherwise only measure
};

// The step's running sums: on the device (read in the step's one host sync) or on the host (estimators
// that leave the device anyway, e.g. to decode and score text).
struct PenaltySums {
  torch::Tensor penalty, p_toxic;  // fp64 scalars on the device
  double host_penalty = 0, host_p_toxic = 0;
};

class PenaltyEstimator {
 public:
  virtual ~PenaltyEstimator() = default;
  // The expected embeddings the step's CE pass should also compute (the soft estimator reads the model's
  // output distribution through the classifier's embedding matrix), or none.
  virtual std::optional<ExpectedEmbeddingsRequest> embeddings_request(bool differentiable) const { return std::nullopt; }
  // Adds the penalty and P(toxic) sums over `in.rows` to `sums`; returns the objective's sum over those rows
  // (undefined unless in.differentiable). Runs inside the step's autocast scope.
  virtual torch::Tensor penalize(const PenaltyInputs& in, PenaltySums& sums) = 0;
  // After a step that scored at least one row, with the step's mean penalty.
  virtual void end_step(double mean_penalty) {}
  // The frozen modules it reads, whose weights the run checks did not change.
  virtual std::vector<torch::nn::Module*> frozen_modules() = 0;
  // State that must survive a restart (trainer_state.json's "penalty_estimator").
  virtual nlohmann::json state() const { return nlohmann::json::object(); }
  virtual void load_state(const nlohmann::json& state, const std::string& label) {}
};

}  // namespace st
