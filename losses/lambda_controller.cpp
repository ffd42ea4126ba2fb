// losses/lambda_controller.cpp — λ schedules and the adaptive dual-ascent controller.
#include "losses/lambda_controller.h"

#include <algorithm>
#include <cmath>

#include <fmt/ranges.h>

#include "common/check.h"
#include "common/json_file.h"

namespace st {
using json = nlohmann::json;

namespace {
double number(const json& spec, const char* field, const std::string& key, double min, double max) {
  ST_CHECK_INPUT(spec.contains(field), "{}: missing '{}'", key, field);
  const auto& v = spec[field];
  ST_CHECK_INPUT(v.is_number() && v.get<double>() >= min && v.get<double>() <= max,
                 "{}.{}: expected a number in [{}, {}], got {}", key, field, min, max, json_excerpt(v));
  return v.get<double>();
}
void only_fields(const json& spec, const std::vector<std::string>& allowed, const std::string& key) {
  for (const auto& [name, _] : spec.items())
    ST_CHECK_INPUT(std::find(allowed.begin(), allowed.end(), name) != allowed.end(), "{}: unknown field '{}' (expected {})",
                   key, name, fmt::join(allowed, ", "));
}
}  // namespace

LambdaController::LambdaController(const json& spec, const std::string& key) {
  if (spec.is_number()) {
    ST_CHECK_INPUT(spec.get<double>() >= 0 && std::isfinite(spec.get<double>()), "{}: expected λ >= 0, got {}", key, json_excerpt(spec));
    type_ = "constant";
    value_ = spec.get<double>();
    return;
  }
  ST_CHECK_INPUT(spec.is_object() && spec.contains("type") && spec["type"].is_string(),
                 "{}: expected a number or an object with \"type\": constant, linear_warmup, schedule or adaptive", key);
  type_ = spec["type"].get<std::string>();
  const double inf = 1e12;
  if (type_ == "constant") {
    only_fields(spec, {"type", "value"}, key);
    value_ = number(spec, "value", key, 0, inf);
  } else if (type_ == "linear_warmup") {
    only_fields(spec, {"type", "value", "warmup_steps"}, key);
    value_ = number(spec, "value", key, 0, inf);
    warmup_steps_ = static_cast<int64_t>(number(spec, "warmup_steps", key, 1, inf));
  } else if (type_ == "schedule") {
    only_fields(spec, {"type", "steps"}, key);
    ST_CHECK_INPUT(spec.contains("steps") && spec["steps"].is_array() && !spec["steps"].empty(),
                   "{}.steps: expected a list of [step, λ] pairs", key);
    for (const auto& pair : spec["steps"]) {
      ST_CHECK_INPUT(pair.is_array() && pair.size() == 2 && pair[0].is_number_integer() && pair[0].get<int64_t>() >= 0 && pair[1].is_number() &&
                         pair[1].get<double>() >= 0,
                     "{}.steps: expected [step, λ] pairs with step >= 0 and λ >= 0, got {}", key, json_excerpt(pair));
      ST_CHECK_INPUT(steps_.empty() || pair[0].get<int64_t>() > steps_.back().first,
                     "{}.steps: steps must increase, got {}", key, json_excerpt(spec["steps"]));
      steps_.emplace_back(pair[0].get<int64_t>(), pair[1].get<double>());
    }
  } else if (type_ == "adaptive") {
    only_fields(spec, {"type", "initial", "target", "lr", "window", "max"}, key);
    max_ = number(spec, "max", key, 1e-6, inf);
    log_lambda_ = std::log(number(spec, "initial", key, 1e-6, max_));
    target_ = number(spec, "target", key, 0, 1);
    lr_ = number(spec, "lr", key, 0, inf);
    window_ = static_cast<int64_t>(number(spec, "window", key, 1, 1e6));
  } else {
    fail_input("{}.type: '{}' is not one of constant, linear_warmup, schedule, adaptive", key, type_);
  }
}

double LambdaController::value(int64_t step) const {
  if (type_ == "constant") return value_;
  if (type_ == "linear_warmup") return value_ * std::min(1.0, static_cast<double>(step) / static_cast<double>(warmup_steps_));
  if (type_ == "schedule") {
    double v = 0;
    for (const auto& [from, lambda] : steps_)
      if (step >= from) v = lambda;
    return v;
  }
  return std::exp(log_lambda_);
}

bool LambdaController::always_zero() const {
  if (type_ == "constant" || type_ == "linear_warmup") return value_ == 0;
  if (type_ == "schedule") return std::all_of(steps_.begin(), steps_.end(), [](const auto& p) { return p.second == 0; });
  return false;
}

void LambdaController::observe(double mean_p_toxic) {
  if (!adaptive()) return;
  history_.push_back(mean_p_toxic);
  while (static_cast<int64_t>(history_.size()) > window_) history_.pop_front();
  log_lambda_ = std::clamp(log_lambda_ + lr_ * (window_mean() - target_), std::log(1e-6), std::log(max_));
}

double LambdaController::window_mean() const {
  if (history_.empty()) return 0;
  double sum = 0;
  for (double p : history_) sum += p;
  return sum / static_cast<double>(history_.size());
}

json LambdaController::state() const {
  return adaptive() ? json{{"log_lambda", log_lambda_}, {"history", history_}} : json::object();
}

void LambdaController::load_state(const json& state, const std::string& label) {
  if (!adaptive()) return;
  ST_CHECK_INPUT(state.contains("log_lambda") && state.contains("history"), "{}: adaptive λ state missing", label);
  log_lambda_ = state["log_lambda"].get<double>();
  history_.clear();
  for (const auto& p : state["history"]) history_.push_back(p.get<double>());
}

}  // namespace st
