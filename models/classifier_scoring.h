// models/classifier_scoring.h — reading texts with the frozen toxicity classifier: token lists padded into
// a batch, P(toxic) per text, and TextScorer, which scores raw text through the classifier's own tokenizer
// (handed in as an encoder, so models/ needs no tokenizer of its own).
#pragma once

#include <torch/types.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "models/toxicity_classifier.h"

namespace st {

// Token lists right-padded: ids [B, T] int64, mask [B, T] bool.
std::pair<torch::Tensor, torch::Tensor> pad_token_lists(const std::vector<const std::vector<int>*>& seqs, int pad_id);
// P(toxic) of each text, in batches of 64, without gradients; per-category scores when asked.
std::vector<double> predict_toxicity(ToxicityClassifier& classifier, const std::vector<const std::vector<int>*>& texts,
                                     int pad_id, std::vector<std::vector<double>>* categories = nullptr);

// A text as the classifier reads it, cut to at most `max_len` ids.
using TextEncoder = std::function<std::vector<int>(const std::string& text, int64_t max_len)>;

// A classifier with its own tokenizer: scores any text, whatever model produced it.
class TextScorer {
 public:
  TextScorer(ToxicityClassifier classifier, TextEncoder encode, int pad_id)
      : classifier_(std::move(classifier)), encode_(std::move(encode)), pad_id_(pad_id) {}
  std::vector<double> score(const std::vector<std::string>& texts);
  double threshold() const { return classifier_->config().threshold; }
  ToxicityClassifier& classifier() { return classifier_; }

 private:
  ToxicityClassifier classifier_{nullptr};
  TextEncoder encode_;
  int pad_id_;
};

}  // namespace st
