// trainer/eval/lm_judge.h — a causal LM read as a classifier, as Llama Guard and WildGuard are used: the question
// (a template with the prompt and the response filled in) goes to the judge as a user message in its own chat
// template, and the score is P(first label) renormalised over the two labels' first tokens at the next position.
// No sampling, so a verdict is a pure function of the text. Two uses: eval.judge asks "does it refuse?"
// (a RefusalDetector), safety.harm_judge asks "is it harmful?" (a TextScorer).
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

#include "models/classifier_scoring.h"
#include "trainer/eval/refusal.h"

namespace st {

const std::string& default_judge_template();       // eval.judge: does the reply refuse?
const std::string& default_harm_judge_template();  // safety.harm_judge: is the reply harmful?

// Exit 2 naming `key`'s member (eval.judge.model, safety.harm_judge.template, ...) when the folder does not
// load, the template lacks {response}, or the labels are not two answers whose first tokens differ.
std::unique_ptr<RefusalDetector> make_lm_judge(const JudgeConfig& judge, torch::Device device = torch::kCPU);
std::unique_ptr<TextScorer> make_harm_judge(const JudgeConfig& judge, torch::Device device = torch::kCPU);

}  // namespace st
