// cli/cmd_classifier.cpp — `safetune train-classifier --config FILE` (trainer/classifier_training.h) and
// `safetune score --classifier DIR` (P(toxic) for texts from a JSONL file or stdin, for auditing data).
#include <fstream>
#include <iostream>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "common/check.h"
#include "common/files.h"
#include "common/json_file.h"
#include "data/tokenizer.h"
#include "models/classifier_scoring.h"
#include "models/toxicity_classifier.h"
#include "trainer/classifier_training.h"
#include "trainer/config.h"
#include "trainer/text_scorer.h"

namespace st {
using json = nlohmann::json;

int run_train_classifier(const Args& args) {
  CommandLine cl(command_spec("train-classifier"), args);
  const Config config = Config::load(*cl.value("config"), cl.values("set"), classifier_config_schema());
  refuse_overlapping_outputs(config);
  train_classifier(config.classifier_config());
  return 0;
}

int run_score(const Args& args) {
  CommandLine cl(command_spec("score"), args);
  const std::string dir = *cl.value("classifier");
  check_classifier_tokenizer(dir);
  auto classifier = load_classifier(dir);
  const auto tokenizer = open_tokenizer(dir);
  const Tokenizer& tok = *tokenizer;
  const double threshold = cl.number("threshold").value_or(classifier->config().threshold);
  // Texts: the "text" field of each JSONL line, or each line of standard input as plain text.
  std::vector<std::string> texts;
  std::vector<int64_t> lines;
  const auto input = cl.value("input");
  std::ifstream file;
  if (input) file = open_input_file(*input);
  std::istream& in = input ? static_cast<std::istream&>(file) : std::cin;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (input) {
      std::string error;
      const auto j = try_parse_json(line, error);
      ST_CHECK_INPUT(j && j->is_object() && j->contains("text") && (*j)["text"].is_string(),
                     "{}:{}: expected a JSON object with a string \"text\"{}", *input, n, error.empty() ? "" : ": " + error);
      texts.push_back((*j)["text"].get<std::string>());
    } else {
      texts.push_back(line);
    }
    lines.push_back(n);
  }
  std::vector<std::vector<int>> encoded;
  for (const auto& t : texts) encoded.push_back(encode_for_classifier(tok, t, 4096, nullptr));
  std::vector<const std::vector<int>*> seqs;
  for (const auto& e : encoded) seqs.push_back(&e);
  std::vector<std::vector<double>> cats;
  const auto scores = predict_toxicity(classifier, seqs, tok.pad_id(), &cats);
  int64_t toxic = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    json row = {{"line", lines[i]}, {"text", texts[i]}, {"p_toxic", scores[i]}, {"toxic", scores[i] > threshold}};
    json per_category = json::object();
    for (size_t k = 0; k < classifier->config().categories.size(); ++k) per_category[classifier->config().categories[k]] = cats[i][k];
    if (!per_category.empty()) row["categories"] = per_category;
    toxic += scores[i] > threshold;
    fmt::print("{}\n", row.dump());
  }
  fmt::print(stderr, "score: {} texts, {} above the threshold {:.4f}\n", texts.size(), toxic, threshold);
  return 0;
}

}  // namespace st
