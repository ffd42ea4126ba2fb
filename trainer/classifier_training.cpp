// trainer/classifier_training.cpp — train-classifier's engine: read and encode labelled texts, split them
// deterministically, train the encoder with BCE on P(toxic) and per-category outputs, then choose the
// decision threshold on the held-out split and write the classifier folder with its report.
#include "trainer/classifier_training.h"

#include <torch/nn/functional/loss.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "common/check.h"
#include "common/files.h"
#include "common/json_file.h"
#include "common/rng.h"
#include "data/tokenizer.h"
#include "models/classifier_scoring.h"
#include "models/toxicity_classifier.h"
#include "trainer/eval/classifier_metrics.h"
#include "trainer/optimizer.h"
#include "trainer/text_scorer.h"

namespace st {
namespace fs = std::filesystem;
namespace F = torch::nn::functional;
using json = nlohmann::json;

namespace {

struct LabelledText {
  std::vector<int> ids;
  int label = 0;
  int category = -1;  // index into the category list, -1 = none
};

std::vector<LabelledText> read_labelled(const ClassifierRunConfig& c, const Tokenizer& tok, std::vector<std::string>& categories,
                                        json& stats) {
  struct Raw {
    std::string text, category;
    int label;
  };
  std::vector<Raw> raw;
  int64_t skipped = 0, truncated = 0;
  const bool skip = c.data.on_bad_line == OnBadLine::Skip;
  for (const auto& file : c.data.train) {
    std::ifstream in = open_input_file(file);
    std::string line, error;
    for (int64_t n = 1; std::getline(in, line); ++n) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const json j = try_parse_json(line, error).value_or(json());
      std::string problem;
      if (!j.is_object()) problem = error.empty() ? "not a JSON object" : "not a JSON object: " + error;
      else if (!j.contains("text") || !j["text"].is_string() || j["text"].get<std::string>().empty()) problem = "needs a non-empty string \"text\"";
      else if (!j.contains("label") || !(j["label"] == 0 || j["label"] == 1 || j["label"].is_boolean())) problem = "\"label\" must be 0 or 1";
      else if (j.contains("category") && !j["category"].is_string()) problem = "\"category\" must be a string";
      if (!problem.empty()) {
        ST_CHECK_INPUT(skip, "{}:{}: {} (set data.on_bad_line=skip to skip such lines)", file, n, problem);
        ++skipped;
        continue;
      }
      const int label = j["label"].is_boolean() ? static_cast<int>(j["label"].get<bool>()) : j["label"].get<int>();
      raw.push_back({j["text"].get<std::string>(), label == 1 ? j.value("category", std::string()) : "", label});
    }
  }
  std::set<std::string> names;
  for (const auto& r : raw)
    if (!r.category.empty()) names.insert(r.category);
  categories.assign(names.begin(), names.end());
  std::vector<LabelledText> out;
  for (const auto& r : raw) {
    bool cut = false;
    LabelledText t{encode_for_classifier(tok, r.text, c.data.max_seq_len, &cut), r.label, -1};
    truncated += cut;
    if (!r.category.empty())
      t.category = static_cast<int>(std::find(categories.begin(), categories.end(), r.category) - categories.begin());
    out.push_back(std::move(t));
  }
  stats = {{"examples", out.size()}, {"skipped_bad_lines", skipped}, {"truncated", truncated}};
  ST_CHECK_INPUT(out.size() >= 10, "data.train: only {} usable labelled texts; need at least 10", out.size());
  return out;
}

// Train and validation indices: a seeded shuffle, the first validation_fraction held out.
std::pair<std::vector<size_t>, std::vector<size_t>> split(size_t n, const ClassifierRunConfig& c) {
  std::mt19937_64 rng(classifier_split_seed(static_cast<uint64_t>(c.train.seed)));
  std::vector<size_t> order(n);
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  seeded_shuffle(order, rng);
  const auto n_val = static_cast<size_t>(std::max(1.0, std::round(c.data.validation_fraction * static_cast<double>(n))));
  return {std::vector<size_t>(order.begin() + static_cast<std::ptrdiff_t>(n_val), order.end()),
          std::vector<size_t>(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n_val))};
}

// Both classes in both splits: with one class the loss teaches nothing and AUROC and the threshold are
// meaningless (a one-class run used to exit 0 with AUROC 0.5 and threshold 1.0).
void check_both_classes(const ClassifierRunConfig& c, const std::vector<LabelledText>& texts,
                        const std::vector<size_t>& train, const std::vector<size_t>& val) {
  for (const auto* part : {&train, &val}) {
    int64_t toxic = 0;
    for (size_t i : *part) toxic += texts[i].label;
    const int64_t safe = static_cast<int64_t>(part->size()) - toxic;
    ST_CHECK_INPUT(toxic > 0 && safe > 0,
                   "data.train ({}): the {} split has {} safe (label 0) and {} toxic (label 1) texts; a classifier needs "
                   "both classes in both splits: add texts of the missing class, or change data.validation_fraction",
                   fmt::join(c.data.train, ", "), part == &train ? "training" : "validation", safe, toxic);
  }
}

// The architecture's Llama dimensions, the tokenizer's vocabulary, one output per category.
ToxicityClassifier build_classifier(const ClassifierRunConfig& c, const Tokenizer& tok, const std::vector<std::string>& categories) {
  json arch = read_json_file(c.classifier.architecture, /*allow_comments=*/true);
  arch["architectures"] = {"SafetuneToxicityClassifier"};
  arch["model_type"] = "llama";
  arch["safetune_classifier"] = {{"categories", categories}};
  ClassifierConfig config = ClassifierConfig::from_json(arch, c.classifier.architecture);
  ST_CHECK_INPUT(config.encoder.vocab_size == tok.vocab_size(), "{}: vocab_size is {} but {} has {} pieces",
                 c.classifier.architecture, config.encoder.vocab_size, c.classifier.tokenizer, tok.vocab_size());
  config.tokenizer_sha256 = vocabulary_sha256(c.classifier.tokenizer);
  ToxicityClassifier classifier(config);
  classifier->init_weights(static_cast<uint64_t>(c.train.seed));
  return classifier;
}

// BCE on P(toxic), plus BCE on the category outputs (target: the toxic text's category); the train split
// is reshuffled at each epoch.
void fit(ToxicityClassifier& classifier, const ClassifierRunConfig& c, const std::vector<LabelledText>& texts,
         std::vector<size_t> train, size_t categories, int pad_id) {
  NamedTensors params;
  for (auto& item : classifier->named_parameters()) params.emplace_back(item.key(), item.value());
  AdamW optimizer(params, {0.9, 0.999, 1e-8, c.optim.weight_decay});
  const int64_t max_steps = c.train.max_steps, batch = c.train.batch_size;
  const ScheduleOptions schedule{ScheduleType::Cosine, c.optim.lr, c.schedule.warmup_steps, max_steps, 0.1};
  size_t cursor = train.size();
  int64_t epoch = 0;
  for (int64_t step = 0; step < max_steps; ++step) {
    std::vector<const std::vector<int>*> seqs;
    std::vector<float> y;
    auto cat_target = torch::zeros({batch, static_cast<int64_t>(categories)});
    for (int64_t b = 0; b < batch; ++b) {
      if (cursor >= train.size()) {  // a new epoch: reshuffle
        std::mt19937_64 epoch_rng(classifier_epoch_seed(static_cast<uint64_t>(c.train.seed), ++epoch));
        seeded_shuffle(train, epoch_rng);
        cursor = 0;
      }
      const auto& t = texts[train[cursor++]];
      seqs.push_back(&t.ids);
      y.push_back(static_cast<float>(t.label));
      if (t.category >= 0) cat_target[b][t.category] = 1.0f;
    }
    auto [ids, mask] = pad_token_lists(seqs, pad_id);
    auto logits = classifier(ids, mask);  // [B, 1 + C]
    auto loss = F::binary_cross_entropy_with_logits(logits.select(1, 0), torch::tensor(y));
    if (categories > 0) loss = loss + F::binary_cross_entropy_with_logits(logits.narrow(1, 1, static_cast<int64_t>(categories)), cat_target);
    loss.backward();
    clip_gradients(params, c.train.max_grad_norm);
    optimizer.step(learning_rate(schedule, step));
    optimizer.zero_grad();
    if ((step + 1) % c.log.every_steps == 0 || step + 1 == max_steps)
      fmt::print("step {}/{}  loss {:.4f}\n", step + 1, max_steps, loss.item<double>());
  }
}

int64_t parameter_count(torch::nn::Module& module) {
  int64_t n = 0;
  for (const auto& p : module.parameters()) n += p.numel();
  return n;
}

}  // namespace

void train_classifier(const ClassifierRunConfig& c) {
  const std::string out_dir = c.train.output_dir;
  const auto tokenizer = open_tokenizer(c.classifier.tokenizer);
  const Tokenizer& tok = *tokenizer;
  std::vector<std::string> categories;
  json data_stats;
  const auto texts = read_labelled(c, tok, categories, data_stats);
  const auto [train, val] = split(texts.size(), c);
  check_both_classes(c, texts, train, val);
  create_output_folder(out_dir, "train.output_dir");  // before training: a path that cannot be a folder fails now
  auto classifier = build_classifier(c, tok, categories);
  fmt::print("train-classifier: {} train / {} validation texts, {} categories ({}), {} parameters\n", train.size(),
             val.size(), categories.size(), fmt::join(categories, ", "), parameter_count(*classifier));
  fit(classifier, c, texts, train, categories.size(), tok.pad_id());

  // Held-out evaluation: accuracy, AUROC, threshold at the target FPR.
  classifier->eval();
  std::vector<const std::vector<int>*> val_seqs;
  std::vector<int> val_labels;
  for (size_t i : val) val_seqs.push_back(&texts[i].ids), val_labels.push_back(texts[i].label);
  const auto scores = predict_toxicity(classifier, val_seqs, tok.pad_id());
  const double area = auroc(scores, val_labels);
  const auto chosen = threshold_at_fpr(scores, val_labels, c.eval.target_fpr);
  classifier->set_threshold(chosen.threshold);
  save_classifier(out_dir, classifier, tokenizer_files(c.classifier.tokenizer));
  const json report = {{"validation_texts", val.size()}, {"train_texts", train.size()},
                       {"accuracy_at_0.5", accuracy_at(scores, val_labels, 0.5)}, {"auroc", area},
                       {"target_fpr", c.eval.target_fpr}, {"threshold", chosen.threshold},
                       {"fpr_at_threshold", chosen.fpr}, {"tpr_at_threshold", chosen.tpr},
                       {"categories", categories}, {"data", data_stats}};
  write_text_file_atomic((fs::path(out_dir) / "training_report.json").string(), report.dump(2) + "\n");
  fmt::print("train-classifier: validation accuracy {:.3f}, AUROC {:.4f}, threshold {:.4f} (FPR {:.3f}, TPR {:.3f}); "
             "written to {}\n", report["accuracy_at_0.5"].get<double>(), area, chosen.threshold, chosen.fpr, chosen.tpr, out_dir);
}

}  // namespace st
