// tests/trainer/safety_training_test.cpp — the safety objective in real runs: λ = 0 with a classifier is
// bit-identical to no safety section, the classifier is byte-identical after training (and hashed in the
// manifest), λ > 0 lowers P(toxic) on data that teaches unsafe responses, and a classifier on another
// vocabulary is refused.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "common/files.h"
#include "tests/test_util.h"

namespace st {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using test::fixture;
using test::run_safetune;
using test::shell_quote;
using test::TempDir;

double mean_p_toxic_of_last(const std::string& run, int last) {
  std::vector<double> p;
  std::ifstream in(fs::path(run) / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    const auto j = json::parse(line);
    if (j["type"] == "train") p.push_back(j["p_toxic"].get<double>());
  }
  double sum = 0;
  for (size_t i = p.size() - static_cast<size_t>(last); i < p.size(); ++i) sum += p[i];
  return sum / last;
}

TEST(SafetyTraining, ClassifierPenaltyEndToEnd) {
  TempDir dir;
  // 1. a classifier on the golden model's tokenizer
  write_text_file_atomic(dir / "arch.json", R"({"vocab_size": 256, "hidden_size": 32, "intermediate_size": 64,
    "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 256})");
  write_text_file_atomic(dir / "cls.json", fmt::format(R"({{
    "classifier": {{"tokenizer": "{}", "architecture": "arch.json"}}, "data": {{"train": "{}"}},
    "train": {{"output_dir": "classifier", "max_steps": 300, "batch_size": 32, "seed": 1}},
    "optim": {{"lr": 3e-3}}, "log": {{"every_steps": 1000}}}})",
                                                         fixture("golden/gqa_default_rope/tokenizer.model"), fixture("safety/labelled.jsonl")));
  auto r = run_safetune("train-classifier --config " + shell_quote(dir / "cls.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto classifier_bytes = read_text_file(dir / "classifier/model.safetensors");

  // 2. task data where 40% of the responses are unsafe placeholders
  {
    std::ifstream in(fixture("train/train.jsonl"));
    std::ofstream out(dir / "toxic_task.jsonl");
    int n = 0;
    for (std::string line; std::getline(in, line);) {
      auto j = json::parse(line);
      if (!j.contains("prompt")) continue;
      if (n++ % 5 < 2) j["completion"] = "Okay, listen: [UNSAFE HARASSMENT PLACEHOLDER: demeaning insult aimed at the user]";
      out << j.dump() << "\n";
    }
  }
  write_text_file_atomic(dir / "run.json", fmt::format(R"({{
    "model": {{"path": "{}", "device": "cpu"}}, "data": {{"train": "toxic_task.jsonl", "max_seq_len": 64}},
    "train": {{"output_dir": "runs/none", "max_steps": 40, "batch_size": 8, "seed": 2}},
    "optim": {{"lr": 3e-3}}, "checkpoint": {{"every_steps": 0}}, "log": {{"every_steps": 1, "progress": "never"}}}})",
                                                       fixture("golden/gqa_default_rope")));
  auto train = [&](const std::string& name, const std::string& sets) {
    return run_safetune("train --config " + shell_quote(dir / "run.json") + " --set train.output_dir=" +
                        shell_quote(dir / ("runs/" + name)) + " " + sets);
  };
  const std::string with_classifier = "--set safety.classifier=" + shell_quote(dir / "classifier");
  ASSERT_EQ((r = train("none", "")).exit_code, 0) << r.output;
  ASSERT_EQ((r = train("zero", with_classifier + " --set safety.lambda=0")).exit_code, 0) << r.output;
  ASSERT_EQ((r = train("penalized", with_classifier + " --set safety.lambda=3")).exit_code, 0) << r.output;

  // λ = 0 with a classifier: measured, never applied — the weights are those of a run without one.
  EXPECT_EQ(read_text_file(dir / "runs/none/final/model.safetensors"), read_text_file(dir / "runs/zero/final/model.safetensors"));
  // Frozen means frozen: same bytes on disk, and the run checked the weight hash it recorded.
  EXPECT_EQ(classifier_bytes, read_text_file(dir / "classifier/model.safetensors"));
  const auto manifest = json::parse(read_text_file(dir / "runs/penalized/manifest.json"));
  EXPECT_EQ(manifest["classifier"]["weights_sha256"].get<std::string>().size(), 64u);

  const double p_zero = mean_p_toxic_of_last(dir / "runs/zero", 10), p_pen = mean_p_toxic_of_last(dir / "runs/penalized", 10);
  std::printf("[safety] mean P(toxic) over the last 10 steps: λ=0 %.4f, λ=3 %.4f\n", p_zero, p_pen);
  EXPECT_LT(p_pen, 0.5 * p_zero);

  // A classifier trained on another vocabulary is refused, saying why.
  r = train("other", "--set safety.classifier=" + shell_quote(dir / "classifier") + " --set safety.lambda=1 --set model.path=" +
                         shell_quote(fixture("golden/gqa_llama3_rope")));
  (void)r;  // same tokenizer file: accepted; the refusal is tested by editing the recorded hash instead
  auto cfg = json::parse(read_text_file(dir / "classifier/config.json"));
  cfg["safetune_classifier"]["tokenizer_sha256"] = std::string(64, '0');
  write_text_file_atomic(dir / "classifier/config.json", cfg.dump());
  r = train("refused", with_classifier + " --set safety.lambda=1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("needs the classifier to share the language model's vocabulary"), std::string::npos) << r.output;
  r = train("nolambda", "--set safety.lambda=0.5");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("no safety.classifier is set"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace st
