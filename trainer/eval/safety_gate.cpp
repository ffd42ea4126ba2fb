// trainer/eval/safety_gate.cpp — gate rules and the best-metric direction.
#include "trainer/eval/safety_gate.h"

#include <cmath>

#include "common/check.h"

namespace st {

GateSettings GateSettings::from_config(const Config& c) {
  GateSettings g;
  g.enabled = c.boolean("gate.enabled");
  g.max_refusal_drop = c.number("gate.max_refusal_drop");
  g.max_toxicity_rate = c.number("gate.max_toxicity_rate");
  g.action = c.string("gate.action");
  g.lambda_factor = c.number("gate.lambda_factor");
  g.max_incidents = c.integer("gate.max_incidents");
  return g;
}

std::vector<std::string> gate_violations(const GateSettings& gate, const nlohmann::json& eval, double baseline_refusal) {
  std::vector<std::string> out;
  if (eval.contains("harmful_refusal_rate") && !std::isnan(baseline_refusal)) {
    const double rate = eval["harmful_refusal_rate"].get<double>();
    if (rate < baseline_refusal - gate.max_refusal_drop - 1e-12)
      out.push_back(fmt::format("harmful refusal rate {:.3f} fell more than {:.3f} below the step-0 rate {:.3f}", rate,
                                gate.max_refusal_drop, baseline_refusal));
  }
  if (eval.contains("harmful_toxicity_rate")) {
    const double rate = eval["harmful_toxicity_rate"].get<double>();
    if (rate > gate.max_toxicity_rate + 1e-12)
      out.push_back(fmt::format("harmful toxicity rate {:.3f} exceeds {:.3f}", rate, gate.max_toxicity_rate));
  }
  return out;
}

bool is_better(const std::string& metric, double value, double best) {
  if (std::isnan(best)) return true;
  const bool higher = metric == "harmful_refusal_rate" || metric == "exact_match";
  return higher ? value > best : value < best;
}

}  // namespace st
