// losses/lambda_controller.h — λ, the weight of the safety penalty, step by step. `safety.lambda` is a
// number or an object:
//   {"type": "constant", "value": 0.5}
//   {"type": "linear_warmup", "value": 0.5, "warmup_steps": 100}    from 0 to value over the first steps
//   {"type": "schedule", "steps": [[0, 0.1], [200, 0.5]]}            piecewise constant, from each step on
//   {"type": "adaptive", "initial": 0.1, "target": 0.05, "lr": 0.5, "window": 20, "max": 100}
// `adaptive` is the Lagrangian safe-RL rule: dual ascent on log λ, log λ += lr · (mean P(toxic) over the
// last `window` steps − target), λ clamped to [1e-6, max]. Its state is saved with every checkpoint.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

namespace st {

class LambdaController {
 public:
  // Parses and checks `spec` (exit 2 naming `key`, e.g. "run.json: safety.lambda.target").
  LambdaController(const nlohmann::json& spec, const std::string& key);
  static void validate(const nlohmann::json& spec, const std::string& key) { LambdaController check(spec, key); }

  double value(int64_t step) const;  // λ for step `step` (0-based)
  bool adaptive() const { return type_ == "adaptive"; }
  bool always_zero() const;          // no step ever has λ > 0: the penalty need not run
  // After each step: the step's mean P(toxic) over penalized sequences. Only `adaptive` uses it.
  void observe(double mean_p_toxic);
  double window_mean() const;

  nlohmann::json state() const;  // for the checkpoint
  void load_state(const nlohmann::json& state, const std::string& label);

 private:
  std::string type_;
  double value_ = 0;
  int64_t warmup_steps_ = 0;
  std::vector<std::pair<int64_t, double>> steps_;
  double target_ = 0, lr_ = 0, max_ = 0;
  int64_t window_ = 1;
  double log_lambda_ = 0;
  std::deque<double> history_;
};

}  // namespace st
