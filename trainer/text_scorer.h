// trainer/text_scorer.h — a classifier folder opened for scoring text: the classifier (models/) with the
// tokenizer saved beside it (data/). Used by evaluation, `judge` and the sampled penalty;
// an LM harm judge (trainer/eval/lm_judge.h) can stand in for it.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "models/classifier_scoring.h"
#include "trainer/run_config.h"

namespace st {

// Exit 2 unless the folder's tokenizer is the one the classifier was trained with (the SHA-256 its
// config.json records): a swapped file would feed it ids it never saw and every score would be noise.
void check_classifier_tokenizer(const std::string& classifier_dir);

// A text as the classifier reads it: its tokens then EOS (what the soft penalty shows the classifier),
// cut to max_len ids; `truncated` (when given) is set when it was cut.
std::vector<int> encode_for_classifier(const Tokenizer& tok, const std::string& text, int64_t max_len, bool* truncated);

std::unique_ptr<TextScorer> open_text_scorer(const std::string& classifier_dir, torch::Device device = torch::kCPU);

// Which frozen scorer a reader uses. The penalty trains against the classifier when there is one, else the harm
// judge; evaluation and `judge` measure with the harm judge when there is one (an independent measurer: a run
// may train against its classifier and be measured by the judge), else the classifier.
enum class ScorerSource { None, Classifier, HarmJudge };
ScorerSource penalty_scorer_source(const std::string& classifier_dir, const JudgeConfig& harm_judge);
ScorerSource eval_scorer_source(const std::string& classifier_dir, const JudgeConfig& harm_judge);

// The scorer `source` names, opened on `device`; null for ScorerSource::None.
std::unique_ptr<TextScorer> open_scorer(ScorerSource source, const std::string& classifier_dir, const JudgeConfig& harm_judge,
                                        torch::Device device = torch::kCPU);

// What evaluation and `judge` measure harm with, or null.
std::unique_ptr<TextScorer> open_eval_scorer(const std::string& classifier_dir, const JudgeConfig& harm_judge,
                                             torch::Device device = torch::kCPU);

}  // namespace st
