// trainer/eval/safety_gate.cpp — gate rules and the best-metric direction.
#include "trainer/eval/safety_gate.h"

#include <cmath>

#include "common/check.h"

namespace st {

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

bool is_better(BestMetric metric, double value, double best) {
  if (std::isnan(best)) return true;
  const bool higher = metric == BestMetric::HarmfulRefusalRate || metric == BestMetric::ExactMatch;
  return higher ? value > best : value < best;
}

}  // namespace st
