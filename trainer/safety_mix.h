// trainer/safety_mix.h — a run's refusal mixing: reads the safety pool, selects the subset once (with
// model embeddings when the strategy needs them), records it in RUN/safety_subset.jsonl, and draws k
// subset examples into every micro-batch.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "data/tokenized_data.h"
#include "data/safety_sampler.h"
#include "models/llama.h"
#include "trainer/run_config.h"

namespace st {

class SafetyMix {
 public:
  // Fresh run: selects and writes RUN/safety_subset.jsonl. Resumed run: reads that file back, because the
  // model (and so any embedding) has moved on since the start; the pool's hash is checked by the resume.
  static std::unique_ptr<SafetyMix> prepare(const RunConfig& config, const TokenizedData& task_examples,
                                            const Tokenizer& tokenizer, LlamaForCausalLM& model,
                                            const std::string& run_dir, bool resuming);

  // The next `per_batch` subset examples, advancing `draws` (saved in TrainingState). `categories`
  // counts what was drawn, for metrics.
  std::vector<const Example*> draw(int64_t& draws, std::map<std::string, int64_t>& categories);
  int64_t per_batch() const { return per_batch_; }
  nlohmann::json summary() const;  // for manifest.json

 private:
  std::vector<SafetyRecord> pool_;
  std::vector<SelectedExample> chosen_;
  std::vector<Example> examples_;  // aligned with chosen_
  std::unique_ptr<SafetyMixer> mixer_;
  int64_t per_batch_ = 0;
  std::string strategy_, subset_sha256_;
};

}  // namespace st
