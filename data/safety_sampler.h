// data/safety_sampler.h — behaviour-aware selection of the safety subset (once per run, every choice
// explained) and the per-batch mixer that draws k of them into each micro-batch.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "data/safety_pool.h"

namespace st {

struct SelectionOptions {
  std::string strategy = "stratified";            // random | stratified | prototype | similar
  int64_t budget = 0;                              // examples to choose
  std::vector<std::string> behaviors{"refusal"};  // behaviour filter; empty = every behaviour
  std::vector<std::string> categories;             // category filter; empty = every category found
  uint64_t seed = 0;
};

struct SelectedExample {
  size_t pool_index = 0;
  std::string stratum;  // the category for stratified and prototype, "pool" otherwise
  int64_t rank = 0;     // 1-based position in its stratum's order
  double score = 0;     // prototype: cosine distance to the category centroid; similar: cosine similarity
  std::string reason;   // one line a person can read
};

// prototype and similar rank by embeddings; stratified and prototype split the budget over categories.
bool strategy_uses_embeddings(const std::string& strategy);
bool strategy_is_stratified(const std::string& strategy);

// The stratified split: every category gets budget / C; the remaining budget % C go one each to the
// categories in name order; a category with fewer examples than its share gives all it has and the
// shortfall goes round the others in name order. Fails when the budget exceeds what is available.
std::map<std::string, int64_t> stratified_quotas(const std::map<std::string, int64_t>& available, int64_t budget);

// Chooses options.budget examples of `pool`. embeddings [N, D] (one row per pool record) and
// task_centroid [D] are needed by prototype and similar only. Ties break by pool order; random draws
// come from seeded mt19937_64, so the subset is the same on every machine.
std::vector<SelectedExample> select_safety_subset(const std::vector<SafetyRecord>& pool, const SelectionOptions& options,
                                                  const torch::Tensor& embeddings = {},
                                                  const torch::Tensor& task_centroid = {});

// Draws subset positions for the batches. Draw n takes group n % G (groups in the order given: one per
// category for stratified strategies, so every batch cycles through categories), and within the group
// the next position of a fresh seeded permutation per pass. Draws are a pure function of n, so the run
// state is only the number of draws made.
class SafetyMixer {
 public:
  SafetyMixer(std::vector<std::vector<size_t>> groups, uint64_t seed);
  std::vector<size_t> draw(int64_t first, int64_t count);  // draws first .. first + count - 1

 private:
  std::vector<std::vector<size_t>> groups_;
  uint64_t seed_;
  std::vector<int64_t> cached_pass_;  // per group: the pass whose permutation is cached
  std::vector<std::vector<size_t>> cached_order_;
};

}  // namespace st
