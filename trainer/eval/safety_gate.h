// trainer/eval/safety_gate.h — the safety gate: thresholds an evaluation must pass (refusal rate not more than
// X below the step-0 evaluation, toxicity rate at most Y), and the "best checkpoint" metric rule.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "trainer/run_config.h"

namespace st {

using GateSettings = RunConfig::Gate;

// The rules a flattened evaluation (Evaluator::flatten) breaks, as readable lines; empty = it passes.
// A rule whose number the evaluation lacks (no classifier: no toxicity) is not checked.
std::vector<std::string> gate_violations(const GateSettings& gate, const nlohmann::json& eval, double baseline_refusal);

// eval.best_metric: whether `value` beats `best` (lower CE, toxicity and over-refusal; higher refusal
// and exact match). Any value beats a NaN best.
bool is_better(BestMetric metric, double value, double best);

}  // namespace st
