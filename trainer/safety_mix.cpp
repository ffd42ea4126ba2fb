// trainer/safety_mix.cpp — selection at the start of a run, its record, and per-batch draws.
#include "trainer/safety_mix.h"

#include <filesystem>

#include "common/check.h"
#include "common/files.h"
#include "common/json_file.h"
#include "common/sha256.h"
#include "common/rng.h"
#include "models/pooled_embeddings.h"

namespace st {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
constexpr const char* kSubsetFile = "safety_subset.jsonl";

Example tokenize_record(const SafetyRecord& r, const Tokenizer& tokenizer, const DataOptions& options) {
  auto ex = apply_chat_template({{"user", r.prompt}, {"assistant", r.response}}, tokenizer, options);
  ex.file = r.file;
  ex.line = r.line;
  if (static_cast<int64_t>(ex.input_ids.size()) > options.max_seq_len) {
    ex.input_ids.resize(static_cast<size_t>(options.max_seq_len));
    ex.labels.resize(static_cast<size_t>(options.max_seq_len));
    ex.truncated = true;
  }
  return ex;
}

json subset_line(const SelectedExample& s, const SafetyRecord& r, int64_t position) {
  return {{"position", position}, {"id", r.id},           {"category", r.category}, {"behavior", r.behavior},
          {"stratum", s.stratum}, {"rank", s.rank},       {"score", s.score},       {"reason", s.reason},
          {"file", r.file},       {"line", r.line},       {"prompt", r.prompt},     {"response", r.response}};
}


// Embeddings of the pool (and the task centroid for `similar`) under the starting model, for the
// strategies that rank by them; the tokenized pool is kept for reuse.
void embed_for_selection(const RunConfig& config, const TokenizedData& task_examples, const Tokenizer& tokenizer,
                         LlamaForCausalLM& model, const std::vector<SafetyRecord>& pool, std::vector<Example>& pool_examples,
                         torch::Tensor& embeddings, torch::Tensor& centroid) {
  for (const auto& r : pool) pool_examples.push_back(tokenize_record(r, tokenizer, config.data.options));
  std::vector<const std::vector<int>*> rows;
  for (const auto& ex : pool_examples) rows.push_back(&ex.input_ids);
  const int64_t batch = config.eval.batch_size;
  embeddings = mean_pooled_embeddings(model, rows, batch, tokenizer.pad_id());  // [N, H]
  if (config.safety.mix.strategy != MixStrategy::Similar) return;
  // A seeded sample of the task data stands for all of it: the centroid of thousands of mean-pooled
  // states barely moves after the first thousand.
  const auto order = seeded_permutation(task_examples.size(), rng_seed(config.train.seed, RngStream::SafetyCentroid));
  const auto n = std::min(order.size(), static_cast<size_t>(config.safety.mix.centroid_examples));
  std::vector<std::vector<int>> sample;
  for (size_t i = 0; i < n; ++i) sample.push_back(task_examples.example(order[i]).input_ids);
  std::vector<const std::vector<int>*> task_rows;
  for (const auto& ids : sample) task_rows.push_back(&ids);
  auto task = mean_pooled_embeddings(model, task_rows, batch, tokenizer.pad_id()).to(torch::kFloat64);  // [n, H]
  centroid = (task / task.norm(2, /*dim=*/-1, /*keepdim=*/true).clamp_min(1e-12)).mean(/*dim=*/0);  // [H]
}

// The subset recorded at the start of a resumed run: the model has moved on, so it cannot be recomputed.
std::vector<SelectedExample> read_subset(const fs::path& subset_path, const std::vector<SafetyRecord>& pool,
                                         const std::string& pool_path, const std::string& run_dir) {
  ST_CHECK_INPUT(fs::exists(subset_path), "{}: the run mixes safety examples but {} is missing; it records the "
                 "subset chosen at the start and cannot be recomputed after training moved the model",
                 run_dir, subset_path.string());
  std::map<std::string, size_t> by_id;
  for (size_t i = 0; i < pool.size(); ++i) by_id[pool[i].id] = i;
  std::vector<SelectedExample> chosen;
  read_jsonl(subset_path.string(), [&](const json& j, int64_t line) {
    const auto id = j.value("id", std::string());
    ST_CHECK_INPUT(by_id.count(id), "{}:{}: id \"{}\" is not in the pool {}", subset_path.string(), line, id, pool_path);
    chosen.push_back({by_id[id], j.value("stratum", std::string()), j.value("rank", int64_t{0}), j.value("score", 0.0),
                      j.value("reason", std::string())});
  });
  return chosen;
}

}  // namespace

std::unique_ptr<SafetyMix> SafetyMix::prepare(const RunConfig& config, const TokenizedData& task_examples,
                                              const Tokenizer& tokenizer, LlamaForCausalLM& model,
                                              const std::string& run_dir, bool resuming) {
  const auto& mix_config = config.safety.mix;
  if (mix_config.pool.empty()) return nullptr;
  auto mix = std::make_unique<SafetyMix>();
  mix->strategy_ = enum_name(mix_config.strategy);
  const double ratio = mix_config.ratio;
  mix->per_batch_ = ratio > 0 ? std::max<int64_t>(1, std::llround(ratio * static_cast<double>(config.train.batch_size)))
                              : mix_config.per_batch;
  ST_CHECK_INPUT(mix->per_batch_ >= 1, "{}: safety.mix.pool is set but safety.mix.per_batch is 0", config.source);
  mix->pool_ = read_safety_pool(mix_config.pool);
  const fs::path subset_path = fs::path(run_dir) / kSubsetFile;
  std::vector<Example> pool_examples;  // the whole pool tokenized, only when embeddings need it

  if (resuming) {
    mix->chosen_ = read_subset(subset_path, mix->pool_, mix_config.pool, run_dir);
  } else {
    SelectionOptions o;
    o.strategy = mix->strategy_;
    o.budget = budget_count(mix_config.budget, static_cast<int64_t>(task_examples.size()));
    o.behaviors = mix_config.behaviors;
    o.categories = mix_config.categories;
    o.seed = static_cast<uint64_t>(config.train.seed);
    torch::Tensor embeddings, centroid;
    if (strategy_uses_embeddings(o.strategy))
      embed_for_selection(config, task_examples, tokenizer, model, mix->pool_, pool_examples, embeddings, centroid);
    mix->chosen_ = select_safety_subset(mix->pool_, o, embeddings, centroid);
    std::string text;
    for (size_t i = 0; i < mix->chosen_.size(); ++i)
      text += subset_line(mix->chosen_[i], mix->pool_[mix->chosen_[i].pool_index], static_cast<int64_t>(i)).dump() + "\n";
    fs::create_directories(run_dir);
    write_text_file_atomic(subset_path.string(), text);
  }
  mix->subset_sha256_ = sha256_file(subset_path.string());

  // Mixer groups: one per category for the stratified strategies, so batches cycle through categories.
  std::map<std::string, std::vector<size_t>> by_category;
  for (size_t i = 0; i < mix->chosen_.size(); ++i) {
    const auto& r = mix->pool_[mix->chosen_[i].pool_index];
    mix->examples_.push_back(pool_examples.empty() ? tokenize_record(r, tokenizer, config.data.options)
                                                   : pool_examples[mix->chosen_[i].pool_index]);
    by_category[strategy_is_stratified(mix->strategy_) ? r.category : ""].push_back(i);
  }
  std::vector<std::vector<size_t>> groups;
  for (auto& [_, members] : by_category) groups.push_back(std::move(members));
  mix->mixer_ = std::make_unique<SafetyMixer>(std::move(groups), rng_seed(config.train.seed, RngStream::SafetyMixDraws));
  return mix;
}

std::vector<const Example*> SafetyMix::draw(int64_t& draws, std::map<std::string, int64_t>& categories) {
  std::vector<const Example*> rows;
  for (size_t position : mixer_->draw(draws, per_batch_)) {
    rows.push_back(&examples_[position]);
    categories[pool_[chosen_[position].pool_index].category] += 1;
  }
  draws += per_batch_;
  return rows;
}

json SafetyMix::summary() const {
  std::map<std::string, int64_t> chosen_categories, chosen_behaviors;
  for (const auto& s : chosen_) {
    chosen_categories[pool_[s.pool_index].category] += 1;
    chosen_behaviors[pool_[s.pool_index].behavior] += 1;
  }
  std::map<std::string, int64_t> pool_behaviors;
  for (const auto& r : pool_) pool_behaviors[r.behavior] += 1;
  return {{"file", kSubsetFile},
          {"sha256", subset_sha256_},
          {"strategy", strategy_},
          {"size", chosen_.size()},
          {"per_batch", per_batch_},
          {"categories", chosen_categories},
          {"behaviors", chosen_behaviors},
          {"pool", {{"records", pool_.size()}, {"categories", count_by_category(pool_)}, {"behaviors", pool_behaviors}}}};
}

}  // namespace st
