// data/safety_sampler.cpp — subset selection strategies and the per-batch mixer.
#include "data/safety_sampler.h"

#include <algorithm>
#include <numeric>
#include <set>

#include "common/check.h"
#include "data/batcher.h"

namespace st {
namespace {


std::string describe_counts(const std::map<std::string, int64_t>& counts) {
  std::vector<std::string> parts;
  for (const auto& [name, n] : counts) parts.push_back(fmt::format("{}={}", name, n));
  return parts.empty() ? "none" : fmt::format("{}", fmt::join(parts, ", "));
}

// Pool indices that pass the behaviour and category filters, grouped by category (name order).
std::map<std::string, std::vector<size_t>> filtered_by_category(const std::vector<SafetyRecord>& pool,
                                                                const SelectionOptions& o) {
  const std::set<std::string> behaviors(o.behaviors.begin(), o.behaviors.end());
  const std::set<std::string> wanted(o.categories.begin(), o.categories.end());
  for (const auto& b : behaviors) {
    const auto& known = safety_behaviors();
    ST_CHECK_INPUT(std::find(known.begin(), known.end(), b) != known.end(),
                   "safety.mix.behaviors: unknown behaviour '{}'; expected {}", b, fmt::join(known, ", "));
  }
  std::map<std::string, std::vector<size_t>> groups;
  std::map<std::string, int64_t> all_by_category;  // before the behaviour filter, for error messages
  for (size_t i = 0; i < pool.size(); ++i) {
    const auto& r = pool[i];
    if (!wanted.empty() && !wanted.count(r.category)) continue;
    all_by_category[r.category] += 1;
    if (!behaviors.empty() && !behaviors.count(r.behavior)) continue;
    groups[r.category].push_back(i);
  }
  const std::string filter = behaviors.empty() ? "any behaviour" : fmt::format("behavior in [{}]", fmt::join(behaviors, ", "));
  for (const auto& c : wanted) {
    std::map<std::string, int64_t> available;
    for (const auto& [name, idx] : groups) available[name] = static_cast<int64_t>(idx.size());
    ST_CHECK_INPUT(groups.count(c), "safety.mix.categories: category '{}' has no examples with {} in the pool; "
                   "available: {}", c, filter, describe_counts(available));
  }
  ST_CHECK_INPUT(!groups.empty(), "safety pool: no examples with {}; the pool has {}", filter,
                 describe_counts(all_by_category));
  return groups;
}

int64_t total_size(const std::map<std::string, std::vector<size_t>>& groups) {
  int64_t n = 0;
  for (const auto& [_, idx] : groups) n += static_cast<int64_t>(idx.size());
  return n;
}

// Rows L2-normalised in float64 on the CPU: cosine geometry, identical on every device.
torch::Tensor normalized_rows(const torch::Tensor& x) {
  auto d = x.to(torch::kCPU, torch::kFloat64);
  return d / d.norm(/*p=*/2, /*dim=*/-1, /*keepdim=*/true).clamp_min(1e-12);
}

// Positions 0..n-1 ordered by key (ascending); candidates are in pool order, so ties break by pool index.
std::vector<size_t> order_by(const std::vector<double>& key) {
  std::vector<size_t> pos(key.size());
  std::iota(pos.begin(), pos.end(), 0);
  std::stable_sort(pos.begin(), pos.end(), [&](size_t a, size_t b) { return key[a] < key[b]; });
  return pos;
}

// Cosine of each of `rows` (pool indices) with the unit vector `direction` [1, D], read in one go.
std::vector<double> cosines(const torch::Tensor& unit, const std::vector<size_t>& rows, const torch::Tensor& direction) {
  auto idx = torch::tensor(std::vector<int64_t>(rows.begin(), rows.end()), torch::kInt64);
  auto c = unit.index_select(0, idx).matmul(direction.t()).reshape({-1}).contiguous();  // [M] float64
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

bool strategy_uses_embeddings(const std::string& s) { return s == "prototype" || s == "similar"; }
bool strategy_is_stratified(const std::string& s) { return s == "stratified" || s == "prototype"; }

std::map<std::string, int64_t> stratified_quotas(const std::map<std::string, int64_t>& available, int64_t budget) {
  int64_t total = 0;
  for (const auto& [_, n] : available) total += n;
  ST_CHECK_INPUT(budget <= total, "safety.mix.budget: {} examples requested but only {} are available ({})", budget,
                 total, describe_counts(available));
  // Round-robin in name order, one example per category per round, skipping exhausted categories. For a
  // budget that divides evenly and full categories this is exactly budget / C each; the remainder goes to
  // the first categories by name.
  std::map<std::string, int64_t> quota;
  for (const auto& [name, _] : available) quota[name] = 0;
  int64_t given = 0;
  while (given < budget)
    for (const auto& [name, n] : available)
      if (given < budget && quota[name] < n) quota[name] += 1, given += 1;
  return quota;
}

std::vector<SelectedExample> select_safety_subset(const std::vector<SafetyRecord>& pool, const SelectionOptions& o,
                                                  const torch::Tensor& embeddings, const torch::Tensor& task_centroid) {
  ST_CHECK_INPUT(o.budget >= 1, "safety.mix.budget: must choose at least one example, got {}", o.budget);
  const auto groups = filtered_by_category(pool, o);
  std::map<std::string, int64_t> available;
  for (const auto& [name, idx] : groups) available[name] = static_cast<int64_t>(idx.size());
  ST_CHECK_INPUT(o.budget <= total_size(groups), "safety.mix.budget: {} examples requested but the filtered pool has "
                 "only {} ({})", o.budget, total_size(groups), describe_counts(available));
  torch::Tensor unit;
  if (strategy_uses_embeddings(o.strategy)) {
    ST_CHECK(embeddings.defined() && embeddings.dim() == 2 && embeddings.size(0) == static_cast<int64_t>(pool.size()),
             "internal: strategy {} needs one embedding row per pool record", o.strategy);
    unit = normalized_rows(embeddings);
  }

  std::vector<SelectedExample> out;
  if (o.strategy == "random" || o.strategy == "similar") {
    std::vector<size_t> candidates;
    for (const auto& [_, idx] : groups) candidates.insert(candidates.end(), idx.begin(), idx.end());
    std::sort(candidates.begin(), candidates.end());
    std::vector<size_t> order;  // positions in `candidates`
    std::vector<double> similarity;
    if (o.strategy == "random") {
      order = seeded_permutation(candidates.size(), rng_seed(o.seed, RngStream::SafetySelection));
    } else {
      ST_CHECK(task_centroid.defined(), "internal: strategy similar needs the task centroid");
      similarity = cosines(unit, candidates, normalized_rows(task_centroid.reshape({1, -1})));
      std::vector<double> negated;
      for (double v : similarity) negated.push_back(-v);
      order = order_by(negated);
    }
    for (int64_t k = 0; k < o.budget; ++k) {
      const size_t at = order[static_cast<size_t>(k)];
      SelectedExample s{candidates[at], "pool", k + 1, 0.0, ""};
      if (o.strategy == "random") {
        s.reason = fmt::format("random draw {} of {} (seeded)", k + 1, o.budget);
      } else {
        s.score = similarity[at];
        s.reason = fmt::format("cosine similarity {:.4f} to the task data's centroid, rank {}", s.score, k + 1);
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  ST_CHECK_INPUT(strategy_is_stratified(o.strategy), "safety.mix.strategy: unknown strategy '{}'", o.strategy);
  const auto quotas = stratified_quotas(available, o.budget);
  uint64_t stream = 0;
  for (const auto& [category, members] : groups) {
    const int64_t quota = quotas.at(category);
    std::vector<size_t> order;  // positions in `members`
    std::vector<double> distance;
    if (o.strategy == "stratified") {
      order = seeded_permutation(members.size(), rng_seed(o.seed, RngStream::SafetySelection, ++stream));
    } else {
      // prototype: closest to the category centroid (mean of the unit embeddings), cosine distance
      auto idx = torch::tensor(std::vector<int64_t>(members.begin(), members.end()), torch::kInt64);
      auto centroid = normalized_rows(unit.index_select(0, idx).mean(/*dim=*/0, /*keepdim=*/true));  // [1, D]
      for (double c : cosines(unit, members, centroid)) distance.push_back(1.0 - c);
      order = order_by(distance);
    }
    for (int64_t k = 0; k < quota; ++k) {
      const size_t at = order[static_cast<size_t>(k)];
      SelectedExample s{members[at], category, k + 1, 0.0, ""};
      if (o.strategy == "stratified") {
        s.reason = fmt::format("stratum {}: draw {} of its quota {} ({} available)", category, k + 1, quota, members.size());
      } else {
        s.score = distance[at];
        s.reason = fmt::format("stratum {}: cosine distance {:.4f} to the category centroid, rank {} of {}", category,
                               s.score, k + 1, members.size());
      }
      out.push_back(std::move(s));
    }
  }
  return out;
}

SafetyMixer::SafetyMixer(std::vector<std::vector<size_t>> groups, uint64_t seed)
    : groups_(std::move(groups)), seed_(seed), cached_pass_(groups_.size(), -1), cached_order_(groups_.size()) {
  ST_CHECK(!groups_.empty(), "internal: the safety mixer needs at least one group");
  for (const auto& g : groups_) ST_CHECK(!g.empty(), "internal: empty safety mixer group");
}

std::vector<size_t> SafetyMixer::draw(int64_t first, int64_t count) {
  std::vector<size_t> out;
  const auto G = static_cast<int64_t>(groups_.size());
  for (int64_t n = first; n < first + count; ++n) {
    const auto g = static_cast<size_t>(n % G);
    const int64_t m = n / G;  // this group's m-th draw
    const auto size = static_cast<int64_t>(groups_[g].size());
    const int64_t pass = m / size;
    if (cached_pass_[g] != pass) {
      cached_order_[g] = seeded_permutation(groups_[g].size(),
                                            derive_seed(rng_seed(seed_, RngStream::SafetyMixer, g), static_cast<uint64_t>(pass)));
      cached_pass_[g] = pass;
    }
    out.push_back(groups_[g][cached_order_[g][static_cast<size_t>(m % size)]]);
  }
  return out;
}

}  // namespace st
