// trainer/text_scorer.h — a classifier folder opened for scoring text: the classifier (models/) with the
// tokenizer saved beside it (data/). Used by evaluation, `score` and the sampled penalty.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "models/classifier_scoring.h"

namespace st {

// Exit 2 unless the folder's tokenizer is the one the classifier was trained with (the SHA-256 its
// config.json records): a swapped file would feed it ids it never saw and every score would be noise.
void check_classifier_tokenizer(const std::string& classifier_dir);

// A text as the classifier reads it: its tokens then EOS (what the soft penalty shows the classifier),
// cut to max_len ids; `truncated` (when given) is set when it was cut.
std::vector<int> encode_for_classifier(const Tokenizer& tok, const std::string& text, int64_t max_len, bool* truncated);

std::unique_ptr<TextScorer> open_text_scorer(const std::string& classifier_dir, torch::Device device = torch::kCPU);

}  // namespace st
