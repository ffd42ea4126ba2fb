// data/safety_pool.h — the safety pool: prompts with responses labelled by harm category and behaviour,
// from which a run picks the few examples it mixes into every batch.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace st {

// The behaviour taxonomy (README, "Safety pool"): what the response does with the prompt.
//   refusal          a harmful instruction declined (the behaviour-aware sampling paper's T1)
//   safe_completion  a harmful instruction answered safely, with explanation or redirection
//   compliance       a benign instruction answered
//   over_refusal     a benign instruction declined
const std::vector<std::string>& safety_behaviors();

struct SafetyRecord {
  std::string id;  // the record's "id", or "FILE:LINE" when it has none
  std::string prompt, response, category, behavior, source;
  std::string file;
  int64_t line = 0;
};

// Reads a JSONL pool: {"prompt","response","category","behavior"} plus optional "id", "source". Any bad
// line is exit 2 naming file:line and the key; so are duplicate ids and an empty pool.
std::vector<SafetyRecord> read_safety_pool(const std::string& path);

// Examples per category, and per "category/behavior".
std::map<std::string, int64_t> count_by_category(const std::vector<SafetyRecord>& pool);

}  // namespace st
