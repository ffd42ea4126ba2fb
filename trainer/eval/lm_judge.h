// trainer/eval/lm_judge.h — eval.refusal_rule=judge: a causal LM read as a classifier, as Llama Guard and
// WildGuard are used. The question (eval.judge.template, with the prompt and the response filled in) goes to
// the judge as a user message in its own chat template; the score is P(first label) renormalised over the two
// labels' first tokens at the next position. No sampling, so a verdict is a pure function of the text.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>

#include "trainer/eval/refusal.h"

namespace st {

const std::string& default_judge_template();

// Exit 2 naming the eval.judge key when the folder does not load, the template lacks {response}, or the
// labels are not two answers whose first tokens differ.
std::unique_ptr<RefusalDetector> make_lm_judge(const RunConfig::Eval::Judge& judge, torch::Device device = torch::kCPU);

}  // namespace st
