// trainer/eval/evaluation.h — what `safetune eval` and eval.every_steps measure: refusal and toxicity rates of
// greedy generations on harmful prompts (overall and per category), over-refusal on benign prompts, and
// validation loss, perplexity and exact match.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "data/batcher.h"
#include "data/examples.h"
#include "data/tokenizer.h"
#include "models/llama.h"
#include "models/classifier_scoring.h"
#include "models/generation.h"
#include "trainer/eval/refusal.h"
#include "trainer/run_config.h"

namespace st {

// --- evaluation ------------------------------------------------------------------------------------
struct EvalSettings {
  std::string harmful, benign;                // prompt JSONL files ({"prompt", "category"?}); empty = skip
  std::vector<Example> validation;            // tokenized validation examples; empty = skip
  DataOptions template_options;               // chat template for prompts
  int64_t max_new_tokens = 48, batch_size = 8, exact_match_examples = 0;
  RunConfig::Eval refusal{};                  // eval.refusal_rule and what it reads (phrases, judge)
  torch::Device device = torch::kCPU;         // where an LM judge runs
  std::string classifier;                     // toxicity by this classifier folder, unless a harm judge is set
  JudgeConfig harm_judge;                     // toxicity by this LM judge when its model is set; neither = no toxicity
  std::shared_ptr<TextScorer> scorer;         // that scorer already open (shared with the sampled penalty); null = open it
  static EvalSettings from_config(const RunConfig& config, std::vector<Example> validation);
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
  // Called after each generation batch of run() with the prompts answered so far and the total.
  void on_progress(std::function<void(size_t done, size_t total)> report) { on_progress_ = std::move(report); }

  struct Prompt {
    std::string text, category;
    int64_t line;
  };

 private:
  GenerationOptions greedy(int64_t max_new_tokens) const;
  std::vector<std::string> respond(LlamaForCausalLM& model, const std::vector<Prompt>& prompts) const;
  nlohmann::json harmful_report(LlamaForCausalLM& model, std::vector<nlohmann::json>* generations);
  nlohmann::json benign_report(LlamaForCausalLM& model, std::vector<nlohmann::json>* generations);
  double exact_match(LlamaForCausalLM& model) const;

  EvalSettings settings_;
  const Tokenizer& tokenizer_;
  std::vector<Prompt> harmful_, benign_;
  std::unique_ptr<RefusalDetector> refusal_;
  std::shared_ptr<TextScorer> scorer_;
  std::vector<Batch> val_batches_;                              // validation, collated once
  std::vector<std::vector<int>> em_prompts_, em_references_;  // exact-match prompts and reference responses
  std::function<void(size_t, size_t)> on_progress_;
  mutable size_t answered_ = 0;  // prompts answered in the current run(), for on_progress_
};

}  // namespace st
