// tests/trainer/eval/classifier_test.cpp — AUROC and threshold selection on hand-computed cases, and the
// toxicity classifier trained by `safetune train-classifier` on the bundled labelled data (AUROC >= 0.95
// on its held-out split), scored back with `safetune score`.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

#include "common/files.h"
#include "tests/test_util.h"
#include "trainer/eval/classifier_metrics.h"

namespace st {
namespace {
using json = nlohmann::json;
using test::fixture;
using test::run_safetune;
using test::shell_quote;
using test::TempDir;

TEST(ClassifierMetrics, AurocOnHandComputedCases) {
  EXPECT_DOUBLE_EQ(auroc({0.1, 0.2, 0.8, 0.9}, {0, 0, 1, 1}), 1.0);
  EXPECT_DOUBLE_EQ(auroc({0.9, 0.8, 0.2, 0.1}, {0, 0, 1, 1}), 0.0);
  EXPECT_DOUBLE_EQ(auroc({0.5, 0.5, 0.5, 0.5}, {0, 1, 0, 1}), 0.5);
  // pairs (pos, neg): (0.35,0.1) win, (0.35,0.4) loss, (0.8,0.1) win, (0.8,0.4) win -> 3/4
  EXPECT_DOUBLE_EQ(auroc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}), 0.75);
}

TEST(ClassifierMetrics, ThresholdKeepsFalsePositivesUnderTheTarget) {
  //            negatives: 0.1 0.2 0.3 0.6        positives: 0.5 0.7 0.9
  const std::vector<double> s = {0.1, 0.2, 0.3, 0.6, 0.5, 0.7, 0.9};
  const std::vector<int> l = {0, 0, 0, 0, 1, 1, 1};
  const auto strict = threshold_at_fpr(s, l, 0.0);  // no negative may pass: above 0.6
  EXPECT_DOUBLE_EQ(strict.threshold, 0.65);
  EXPECT_DOUBLE_EQ(strict.tpr, 2.0 / 3.0);
  const auto loose = threshold_at_fpr(s, l, 0.25);  // one negative may pass: 0.5 must be caught too
  EXPECT_DOUBLE_EQ(loose.threshold, 0.4);
  EXPECT_DOUBLE_EQ(loose.fpr, 0.25);
  EXPECT_DOUBLE_EQ(loose.tpr, 1.0);
  EXPECT_DOUBLE_EQ(accuracy_at(s, l, 0.4), 6.0 / 7.0);
}

TEST(TrainClassifier, ReachesAurocAbove095OnTheBundledDataAndScores) {
  TempDir dir;
  write_text_file_atomic(dir / "arch.json", R"({"vocab_size": 256, "hidden_size": 32, "intermediate_size": 64,
    "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 256})");
  write_text_file_atomic(dir / "cls.json", fmt::format(R"({{
    "classifier": {{"tokenizer": "{}", "architecture": "arch.json"}},
    "data": {{"train": "{}"}},
    "train": {{"output_dir": "out", "max_steps": 400, "batch_size": 32, "seed": 1}},
    "optim": {{"lr": 3e-3}}, "log": {{"every_steps": 1000}}}})", fixture("tokenizer/tokenizer.model"), fixture("safety/labelled.jsonl")));
  auto r = run_safetune("train-classifier --config " + shell_quote(dir / "cls.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto report = json::parse(read_text_file(dir / "out/training_report.json"));
  std::printf("[classifier] held-out AUROC %.4f, accuracy %.3f, threshold %.4f at FPR %.3f (TPR %.3f), %zu texts\n",
              report["auroc"].get<double>(), report["accuracy_at_0.5"].get<double>(), report["threshold"].get<double>(),
              report["fpr_at_threshold"].get<double>(), report["tpr_at_threshold"].get<double>(),
              report["validation_texts"].get<size_t>());
  EXPECT_GE(report["auroc"].get<double>(), 0.95);
  EXPECT_LE(report["fpr_at_threshold"].get<double>(), 0.05);
  EXPECT_EQ(report["categories"].size(), 6u);

  write_text_file_atomic(dir / "texts.jsonl", "{\"text\": \"The museum is open every day.\"}\n"
                                              "{\"text\": \"Fine. [UNSAFE PRIVACY PLACEHOLDER: a leaked phone number]\"}\n");
  r = run_safetune("score --classifier " + shell_quote(dir / "out") + " --input " + shell_quote(dir / "texts.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<json> rows;  // stdout's JSONL; the summary line on stderr is not JSON
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] == '{') rows.push_back(json::parse(line));
  ASSERT_EQ(rows.size(), 2u) << r.output;
  const auto &first = rows[0], &second = rows[1];
  EXPECT_FALSE(first["toxic"].get<bool>());
  EXPECT_TRUE(second["toxic"].get<bool>());
  EXPECT_GT(second["categories"]["privacy"].get<double>(), second["categories"]["violence"].get<double>());

  write_text_file_atomic(dir / "bad.jsonl", "{\"text\": \"ok\"}\n{\"txt\": \"typo\"}\n");
  r = run_safetune("score --classifier " + shell_quote(dir / "out") + " --input " + shell_quote(dir / "bad.jsonl"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("bad.jsonl:2:"), std::string::npos) << r.output;
  r = run_safetune("train-classifier --config " + shell_quote(dir / "cls.json") + " --set train.max_step=3");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("did you mean 'train.max_steps'"), std::string::npos) << r.output;
}

// A classifier needs both classes: data with one label is exit 2 naming the file, before any training.
TEST(TrainClassifier, OneClassDataIsRefused) {
  TempDir dir;
  write_text_file_atomic(dir / "arch.json", R"({"vocab_size": 256, "hidden_size": 32, "intermediate_size": 64,
    "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 256})");
  std::string data;
  for (int i = 0; i < 20; ++i) data += fmt::format("{{\"text\": \"a safe sentence number {}\", \"label\": 0}}\n", i);
  write_text_file_atomic(dir / "safe.jsonl", data);
  write_text_file_atomic(dir / "cls.json", fmt::format(R"({{
    "classifier": {{"tokenizer": "{}", "architecture": "arch.json"}},
    "data": {{"train": "safe.jsonl"}},
    "train": {{"output_dir": "out", "max_steps": 5}}}})", fixture("tokenizer/tokenizer.model")));
  const auto r = run_safetune("train-classifier --config " + shell_quote(dir / "cls.json"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("safe.jsonl): the training split has 16 safe (label 0) and 0 toxic (label 1) texts"),
            std::string::npos) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "out"));
}

}  // namespace
}  // namespace st
