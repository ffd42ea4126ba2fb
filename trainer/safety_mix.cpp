// trainer/safety_mix.cpp — selection at the start of a run, its record, and per-batch draws.
#include "trainer/safety_mix.h"

#include <filesystem>

#include "common/check.h"
#include "common/files.h"
#include "common/json_file.h"
#include "common/sha256.h"
#include "data/batcher.h"

namespace st {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
constexpr const char* kSubsetFile = "safety_subset.jsonl";
constexpr uint64_t kCentroidStream = 303, kMixStream = 404;

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
}  // namespace

torch::Tensor mean_pooled_embeddings(LlamaForCausalLM& model, const std::vector<const Example*>& rows,
                                     int64_t batch_size, int pad_id) {
  torch::NoGradGuard no_grad;
  const auto device = model->parameters().front().device();
  std::vector<torch::Tensor> out;
  for (size_t start = 0; start < rows.size(); start += static_cast<size_t>(batch_size)) {
    const std::vector<const Example*> chunk(rows.begin() + static_cast<std::ptrdiff_t>(start),
                                            rows.begin() + static_cast<std::ptrdiff_t>(std::min(rows.size(), start + static_cast<size_t>(batch_size))));
    const Batch b = collate(chunk, pad_id);
    std::vector<int64_t> lengths;
    for (const Example* ex : chunk) lengths.push_back(static_cast<int64_t>(ex->input_ids.size()));
    auto len = torch::tensor(lengths, torch::kInt64);                                                 // [B]
    auto mask = torch::arange(b.input_ids.size(1)).unsqueeze(0).lt(len.unsqueeze(1)).to(torch::kFloat32);  // [B, T]
    // Right padding under causal attention: real positions never see the padding, so pooling over the
    // mask gives each row's embedding as if it were alone.
    auto hidden = model->model(b.input_ids.to(device)).to(torch::kCPU, torch::kFloat32);  // [B, T, H]
    out.push_back((hidden * mask.unsqueeze(2)).sum(/*dim=*/1) / len.unsqueeze(1).to(torch::kFloat32));
  }
  return torch::cat(out, /*dim=*/0);  // [N, H]
}

std::unique_ptr<SafetyMix> SafetyMix::prepare(const Config& config, const std::vector<Example>& task_examples,
                                              const Tokenizer& tokenizer, const DataOptions& data_options,
                                              LlamaForCausalLM& model, const std::string& run_dir, bool resuming) {
  const std::string pool_path = config.string("safety.mix.pool");
  if (pool_path.empty()) return nullptr;
  auto mix = std::make_unique<SafetyMix>();
  mix->strategy_ = config.string("safety.mix.strategy");
  const double ratio = config.number("safety.mix.ratio");
  mix->per_batch_ = ratio > 0 ? std::max<int64_t>(1, std::llround(ratio * static_cast<double>(config.integer("train.batch_size"))))
                              : config.integer("safety.mix.per_batch");
  ST_CHECK_INPUT(mix->per_batch_ >= 1, "{}: safety.mix.pool is set but safety.mix.per_batch is 0", config.source());
  mix->pool_ = read_safety_pool(pool_path);
  const fs::path subset_path = fs::path(run_dir) / kSubsetFile;
  std::vector<Example> pool_examples;  // the whole pool tokenized, only when embeddings need it

  if (resuming) {
    ST_CHECK_INPUT(fs::exists(subset_path), "{}: the run mixes safety examples but {} is missing; it records the "
                   "subset chosen at the start and cannot be recomputed after training moved the model",
                   run_dir, subset_path.string());
    std::map<std::string, size_t> by_id;
    for (size_t i = 0; i < mix->pool_.size(); ++i) by_id[mix->pool_[i].id] = i;
    read_jsonl(subset_path.string(), [&](const json& j, int64_t line) {
      const auto id = j.value("id", std::string());
      ST_CHECK_INPUT(by_id.count(id), "{}:{}: id \"{}\" is not in the pool {}", subset_path.string(), line, id, pool_path);
      mix->chosen_.push_back({by_id[id], j.value("stratum", std::string()), j.value("rank", int64_t{0}),
                              j.value("score", 0.0), j.value("reason", std::string())});
    });
  } else {
    SelectionOptions o;
    o.strategy = mix->strategy_;
    o.budget = budget_count(config.raw("safety.mix.budget"), static_cast<int64_t>(task_examples.size()));
    o.behaviors = config.raw("safety.mix.behaviors").get<std::vector<std::string>>();
    o.categories = config.raw("safety.mix.categories").get<std::vector<std::string>>();
    o.seed = static_cast<uint64_t>(config.integer("train.seed"));
    torch::Tensor embeddings, centroid;
    if (strategy_uses_embeddings(o.strategy)) {
      for (const auto& r : mix->pool_) pool_examples.push_back(tokenize_record(r, tokenizer, data_options));
      std::vector<const Example*> rows;
      for (const auto& ex : pool_examples) rows.push_back(&ex);
      const int64_t batch = config.integer("eval.batch_size");
      embeddings = mean_pooled_embeddings(model, rows, batch, tokenizer.pad_id());  // [N, H]
      if (o.strategy == "similar") {
        // A seeded sample of the task data stands for all of it: the centroid of thousands of mean-pooled
        // states barely moves after the first thousand.
        const auto order = seeded_permutation(task_examples.size(), derive_seed(o.seed, kCentroidStream));
        const auto n = std::min(order.size(), static_cast<size_t>(config.integer("safety.mix.centroid_examples")));
        std::vector<const Example*> task_rows;
        for (size_t i = 0; i < n; ++i) task_rows.push_back(&task_examples[order[i]]);
        auto task = mean_pooled_embeddings(model, task_rows, batch, tokenizer.pad_id()).to(torch::kFloat64);  // [n, H]
        centroid = (task / task.norm(2, /*dim=*/-1, /*keepdim=*/true).clamp_min(1e-12)).mean(/*dim=*/0);  // [H]
      }
    }
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
    mix->examples_.push_back(pool_examples.empty() ? tokenize_record(r, tokenizer, data_options)
                                                   : pool_examples[mix->chosen_[i].pool_index]);
    by_category[strategy_is_stratified(mix->strategy_) ? r.category : ""].push_back(i);
  }
  std::vector<std::vector<size_t>> groups;
  for (auto& [_, members] : by_category) groups.push_back(std::move(members));
  mix->mixer_ = std::make_unique<SafetyMixer>(std::move(groups),
                                              derive_seed(static_cast<uint64_t>(config.integer("train.seed")), kMixStream));
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
