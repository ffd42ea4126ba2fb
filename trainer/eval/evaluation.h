// trainer/eval/evaluation.h — what `safetune eval` and eval.every_steps measure: refusal and toxicity rates of
// greedy generations on harmful prompts (overall and per category), over-refusal on benign prompts, and
// validation loss, perplexity and exact match. Also the classifier-scoring helpers it shares with
// train-classifier and score.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "data/batcher.h"
#include "data/examples.h"
#include "data/tokenizer.h"
#include "models/llama.h"
#include "models/toxicity_classifier.h"
#include "trainer/config.h"

namespace st {

// --- classifier scoring --------------------------------------------------------------------------
// A text as the classifier reads it: its tokens then EOS (what the soft penalty shows the classifier).
std::vector<int> encode_for_classifier(const Tokenizer& tok, const std::string& text, int64_t max_len, bool* truncated);
// Token lists right-padded: ids [B, T] int64, mask [B, T] bool.
std::pair<torch::Tensor, torch::Tensor> pad_token_lists(const std::vector<const std::vector<int>*>& seqs, int pad_id);
// P(toxic) of each text, in batches of 64, without gradients; per-category scores when asked.
std::vector<double> predict_toxicity(ToxicityClassifier& classifier, const std::vector<const std::vector<int>*>& texts,
                                     int pad_id, std::vector<std::vector<double>>* categories = nullptr);

// A classifier folder with its own tokenizer: scores any text, whatever model produced it.
class TextScorer {
 public:
  explicit TextScorer(const std::string& dir, torch::Device device = torch::kCPU);
  std::vector<double> score(const std::vector<std::string>& texts);
  double threshold() const { return classifier_->config().threshold; }
  ToxicityClassifier& classifier() { return classifier_; }

 private:
  ToxicityClassifier classifier_{nullptr};
  std::unique_ptr<Tokenizer> tokenizer_;
};

// --- refusal detection ---------------------------------------------------------------------------
// A response is a refusal when, after leading spaces and quotes, it starts with one of the phrases
// (case-insensitive) and the phrase ends at a word boundary ("I can't" matches "I can't help" but
// "I cannot" does not match "I cannoli"). Matching only the start keeps "Sure. I can't wait to help"
// and quoted refusals inside an answer from counting.
const std::vector<std::string>& default_refusal_phrases();
bool is_refusal(const std::string& response, const std::vector<std::string>& phrases);

// --- evaluation ------------------------------------------------------------------------------------
struct EvalSettings {
  std::string harmful, benign;                // prompt JSONL files ({"prompt", "category"?}); empty = skip
  std::vector<Example> validation;            // tokenized validation examples; empty = skip
  DataOptions template_options;               // chat template for prompts
  int64_t max_new_tokens = 48, batch_size = 8, exact_match_examples = 0;
  std::vector<std::string> refusal_phrases;
  std::string classifier;                     // classifier folder for toxicity; empty = no toxicity numbers
  static EvalSettings from_config(const Config& config, std::vector<Example> validation);
  bool generates() const { return !harmful.empty() || !benign.empty() || (exact_match_examples > 0 && !validation.empty()); }
};

class Evaluator {
 public:
  Evaluator(EvalSettings settings, const Tokenizer& tokenizer);
  // The whole report as JSON; `generations` (when not null) receives one row per generated response.
  nlohmann::json run(LlamaForCausalLM& model, std::vector<nlohmann::json>* generations = nullptr);
  // The report's headline numbers flattened for metrics.jsonl (harmful_refusal_rate, val_ce, ...).
  static nlohmann::json flatten(const nlohmann::json& report);
  // A table for the terminal.
  static std::string table(const nlohmann::json& report);

 private:
  struct Prompt {
    std::string text, category;
    int64_t line;
  };
  EvalSettings settings_;
  const Tokenizer& tokenizer_;
  std::vector<Prompt> harmful_, benign_;
  std::unique_ptr<TextScorer> scorer_;
  std::vector<Batch> val_batches_;                              // validation, collated once
  std::vector<std::vector<int>> em_prompts_, em_references_;  // exact-match prompts and reference responses
};

}  // namespace st
