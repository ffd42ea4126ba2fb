// models/classifier_scoring.h — reading texts with a frozen harm scorer: TextScorer, the interface evaluation,
// `judge` and the sampled penalty score responses through; token lists padded into a batch and P(toxic) per
// text; and ClassifierScorer, the toxicity classifier reading raw text through its own tokenizer (handed in as
// an encoder, so models/ needs no tokenizer of its own). The other scorer is an LM harm judge
// (trainer/eval/lm_judge.h).
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

// A frozen scorer of responses: P(harmful) of each response to its prompt, whatever model wrote it.
class TextScorer {
 public:
  virtual ~TextScorer() = default;
  // prompts[i] is what responses[i] answers (a scorer may ignore it); one probability per response.
  virtual std::vector<double> score(const std::vector<std::string>& prompts, const std::vector<std::string>& responses) = 0;
  virtual double threshold() const = 0;  // a response scoring above it counts as harmful
  virtual std::vector<torch::nn::Module*> frozen_modules() = 0;  // the weights a run must leave untouched
  virtual std::string describe() const = 0;  // for reports and manifests: "classifier DIR", "harm judge MODEL"
};

// The toxicity classifier with its own tokenizer; reads the responses only.
class ClassifierScorer : public TextScorer {
 public:
  ClassifierScorer(ToxicityClassifier classifier, TextEncoder encode, int pad_id, std::string name)
      : classifier_(std::move(classifier)), encode_(std::move(encode)), pad_id_(pad_id), name_(std::move(name)) {}
  std::vector<double> score(const std::vector<std::string>& prompts, const std::vector<std::string>& responses) override;
  double threshold() const override { return classifier_->config().threshold; }
  std::vector<torch::nn::Module*> frozen_modules() override { return {classifier_.ptr().get()}; }
  std::string describe() const override { return "classifier " + name_; }

 private:
  ToxicityClassifier classifier_{nullptr};
  TextEncoder encode_;
  int pad_id_;
  std::string name_;
};

}  // namespace st
