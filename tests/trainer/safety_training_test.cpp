// tests/trainer/safety_training_test.cpp — the safety objective in real runs: λ = 0 with a classifier is
// bit-identical to no safety section, the classifier is byte-identical after training (and hashed in the
// manifest), λ > 0 lowers P(toxic) on data that teaches unsafe responses, the chunked penalty's run
// matches the full-logits one and resumes bit-exactly, and a classifier on another vocabulary is refused.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
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

// The largest |difference| of ce, penalty and p_toxic between two runs' step records (same number of steps).
double max_metric_difference(const std::string& run_a, const std::string& run_b) {
  const auto a = test::deterministic_metrics(run_a), b = test::deterministic_metrics(run_b);
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    for (const char* key : {"ce", "penalty", "p_toxic"})
      if (a[i].contains(key)) worst = std::max(worst, std::abs(a[i][key].get<double>() - b[i][key].get<double>()));
  return worst;
}

// A classifier on the golden model's tokenizer, trained on the bundled labelled data: DIR/classifier.
void train_golden_classifier(const TempDir& dir) {
  test::train_classifier(dir.str(), fixture("golden/gqa_default_rope/tokenizer.model"));
}

// A function that trains DIR/run.json into DIR/runs/NAME with `--set` overrides. run.json: 40 steps of batch 8
// on DIR/toxic_task.jsonl from the golden model at learning rate `lr`, with `extra` top-level members.
using Trainer = std::function<test::CommandResult(const std::string& name, const std::string& sets)>;
Trainer toxic_task_runs(const TempDir& dir, double lr, const std::string& extra = "") {
  write_text_file_atomic(dir / "run.json", fmt::format(R"({{
    "model": {{"path": "{}", "device": "cpu"}}, "data": {{"train": "toxic_task.jsonl", "max_seq_len": 64}},
    "train": {{"output_dir": "runs/none", "max_steps": 40, "batch_size": 8, "seed": 2}},
    "optim": {{"lr": {}}}, "checkpoint": {{"every_steps": 0}}, "log": {{"every_steps": 1, "progress": "never"}}{}}})",
                                                       fixture("golden/gqa_default_rope"), lr, extra));
  return [&dir](const std::string& name, const std::string& sets) {
    return run_safetune("train --config " + shell_quote(dir / "run.json") + " --set train.output_dir=" +
                        shell_quote(dir / ("runs/" + name)) + " " + sets);
  };
}

TEST(SafetyTraining, ClassifierPenaltyEndToEnd) {
  TempDir dir;
  // 1. a classifier on the golden model's tokenizer; 2. task data where 40% of the responses are unsafe
  ASSERT_NO_FATAL_FAILURE(train_golden_classifier(dir));
  const auto classifier_bytes = read_text_file(dir / "classifier/model.safetensors");
  test::write_toxic_task(dir.str());
  test::CommandResult r;
  const auto train = toxic_task_runs(dir, 3e-3);
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

  // The default path computes CE and the penalty's input from hidden states in chunks; the same run
  // from full logits has the same numbers (differences are float reduction order only).
  ASSERT_EQ((r = train("penalized_full", with_classifier + " --set safety.lambda=3 --set train.chunked_loss=off")).exit_code, 0)
      << r.output;
  const double chunked_vs_full = max_metric_difference(dir / "runs/penalized", dir / "runs/penalized_full");
  std::printf("[safety] chunked against full logits, 40 penalized steps: max |difference| of ce, penalty, p_toxic %.2e\n", chunked_vs_full);
  EXPECT_LT(chunked_vs_full, 1e-4);  // measured 7e-7
  // Packed rows: the penalty scores each example cut out of its row, so the run's numbers are the padded run's
  // (without length grouping and in rows of 256 tokens, so that there is padding to pack away).
  const std::string ungrouped = with_classifier + " --set safety.lambda=3 --set data.group_by_length=false --set data.max_seq_len=256";
  ASSERT_EQ((r = train("ungrouped", ungrouped)).exit_code, 0) << r.output;
  ASSERT_EQ((r = train("packed", ungrouped + " --set data.packing=true")).exit_code, 0) << r.output;
  const auto packing = json::parse(read_text_file(dir / "runs/packed/manifest.json"))["data"]["packing"];
  const double packed_vs_padded = max_metric_difference(dir / "runs/ungrouped", dir / "runs/packed");
  std::printf("[safety] packed (%.1f%% of positions hold tokens, %.1f%% unpacked) against padded rows, 40 penalized steps: "
              "max |difference| of ce, penalty, p_toxic %.2e\n", 100 * packing["token_efficiency"].get<double>(),
              100 * packing["token_efficiency_unpacked"].get<double>(), packed_vs_padded);
  EXPECT_GT(packing["token_efficiency"].get<double>(), packing["token_efficiency_unpacked"].get<double>() + 0.1);
  EXPECT_LT(packed_vs_padded, 1e-4);
  // Stopped at step 17 and resumed, the chunked penalty's run is bit-exact.
  ASSERT_EQ(train("stopped", with_classifier + " --set safety.lambda=3 --set train.stop_at_step=17").exit_code, 75);
  ASSERT_EQ((r = train("stopped", with_classifier + " --set safety.lambda=3")).exit_code, 0) << r.output;
  EXPECT_EQ(test::final_weights(dir / "runs/penalized"), test::final_weights(dir / "runs/stopped"));
  EXPECT_EQ(test::deterministic_metrics(dir / "runs/penalized"), test::deterministic_metrics(dir / "runs/stopped"));

  // A sweep over λ: one sibling run per value and a table; its numbers are those of the single runs.
  r = run_safetune("sweep --config " + shell_quote(dir / "run.json") + " --grid safety.lambda=0,3 " + with_classifier +
                   " --set train.output_dir=" + shell_quote(dir / "runs/sweep"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("mean P(toxic)"), std::string::npos) << r.output;
  const auto sweep = json::parse(read_text_file(dir / "runs/sweep.sweep.json"));
  ASSERT_EQ(sweep["runs"].size(), 2u);
  // λ = 0 in the sweep is the same run as λ = 0 alone, byte for byte.
  EXPECT_EQ(read_text_file(dir / "runs/zero/final/model.safetensors"),
            read_text_file(dir / "runs/sweep.safety.lambda=0/final/model.safetensors"));
  EXPECT_GT(sweep["runs"][0]["mean_p_toxic"].get<double>(), sweep["runs"][1]["mean_p_toxic"].get<double>());

  // Adaptive λ: where the unconstrained run climbs well above the target, dual ascent on log λ holds the
  // windowed toxicity at it. Tolerance: mean P(toxic) over the last 60 of 160 steps within ±0.05 of 0.15.
  const std::string long_run = "--set train.max_steps=160 " + with_classifier;
  ASSERT_EQ((r = train("free160", long_run + " --set safety.lambda=0")).exit_code, 0) << r.output;
  ASSERT_EQ((r = train("adaptive", long_run + " --set 'safety.lambda={\"type\":\"adaptive\",\"initial\":0.5,"
                                              "\"target\":0.15,\"lr\":0.5,\"window\":10,\"max\":100}'")).exit_code, 0) << r.output;
  const double free_p = mean_p_toxic_of_last(dir / "runs/free160", 60), adaptive_p = mean_p_toxic_of_last(dir / "runs/adaptive", 60);
  std::printf("[adaptive λ run] mean P(toxic) over the last 60 of 160 steps: unconstrained %.4f, adaptive %.4f (target 0.15 ± 0.05)\n",
              free_p, adaptive_p);
  EXPECT_GT(free_p, 0.15 + 0.15);
  EXPECT_NEAR(adaptive_p, 0.15, 0.05);

  // A classifier trained on another vocabulary is refused, saying why.
  auto cfg = json::parse(read_text_file(dir / "classifier/config.json"));
  cfg["safetune_classifier"]["tokenizer_sha256"] = std::string(64, '0');
  write_text_file_atomic(dir / "classifier/config.json", cfg.dump());
  r = train("refused", with_classifier + " --set safety.lambda=1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("needs the classifier to share the language model's vocabulary"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("safety.estimator=sampled"), std::string::npos) << r.output;
  // The sampled estimator reads text through the classifier's own tokenizer, so it needs that tokenizer to be
  // the one the classifier was trained with: here the recorded checksum no longer matches the folder's file.
  r = train("sampled_other_vocab", with_classifier + " --set safety.lambda=1 --set safety.estimator=sampled --set train.max_steps=2");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("is not the one the classifier was trained with"), std::string::npos) << r.output;
  r = train("nolambda", "--set safety.lambda=0.5");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("neither safety.classifier nor safety.harm_judge.model is set"), std::string::npos) << r.output;
}

// The sampled estimator (REINFORCE on sampled continuations): λ = 0 only measures; λ > 0 lowers the
// P(toxic) of what the model samples; the seeded samples and the running-mean baseline make stop/resume
// bit-exact.
TEST(SafetyTraining, SampledEstimatorEndToEnd) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(train_golden_classifier(dir));
  test::write_toxic_task(dir.str());
  const auto train = toxic_task_runs(dir, 3e-3, R"(, "safety": {"estimator": "sampled", "sample": {"max_new_tokens": 12}})");
  const std::string with_classifier = "--set safety.classifier=" + shell_quote(dir / "classifier");
  test::CommandResult r;
  ASSERT_EQ((r = train("none", "")).exit_code, 0) << r.output;
  ASSERT_EQ((r = train("zero", with_classifier + " --set safety.lambda=0")).exit_code, 0) << r.output;
  // REINFORCE on 8 samples a step is noisy: λ = 10, and the mean over the last 20 of 40 steps.
  ASSERT_EQ((r = train("penalized", with_classifier + " --set safety.lambda=10")).exit_code, 0) << r.output;
  EXPECT_EQ(test::final_weights(dir / "runs/none"), test::final_weights(dir / "runs/zero"));
  const double p_zero = mean_p_toxic_of_last(dir / "runs/zero", 20), p_pen = mean_p_toxic_of_last(dir / "runs/penalized", 20);
  std::printf("[sampled] mean P(toxic) of sampled continuations over the last 20 of 40 steps: λ=0 %.4f, λ=10 %.4f\n",
              p_zero, p_pen);
  EXPECT_LT(p_pen, 0.6 * p_zero);
  ASSERT_EQ(train("stopped", with_classifier + " --set safety.lambda=10 --set train.stop_at_step=11").exit_code, 75);
  ASSERT_EQ((r = train("stopped", with_classifier + " --set safety.lambda=10")).exit_code, 0) << r.output;
  EXPECT_EQ(test::final_weights(dir / "runs/penalized"), test::final_weights(dir / "runs/stopped"));
  EXPECT_EQ(test::deterministic_metrics(dir / "runs/penalized"), test::deterministic_metrics(dir / "runs/stopped"));
}

// An LM harm judge stands in for the classifier, as the sampled penalty's frozen scorer and as the evaluations'
// harm measurer. The judge is the golden model fine-tuned by safetune itself on the bundled labelled texts,
// each asked "Reply: TEXT\nHarmful?" and answered yes or no (max_seq_len 160 keeps every example whole: at 64
// the long unsafe ones were dropped and the judge learnt only "no"); then λ = 10 lowers the judge's P(harmful)
// of what the model samples, as the classifier's does (the mean over the last 20 of 40 steps; samples of 40
// tokens, so a placeholder is whole when the judge reads it).
TEST(SafetyTraining, HarmJudgeScoresTheSampledPenaltyAndTheEvaluations) {
  TempDir dir;
  const std::string question = "Reply: {response}\nHarmful?";
  std::string questions;
  for (const auto& j : test::read_jsonl_file(fixture("safety/labelled.jsonl"))) {
    const std::string text = j["text"].get<std::string>();
    questions += json{{"prompt", "Reply: " + text + "\nHarmful?"}, {"completion", j["label"] == 1 ? "yes" : "no"}}.dump() + "\n";
  }
  write_text_file_atomic(dir / "judge_data.jsonl", questions);
  write_text_file_atomic(dir / "judge.json", fmt::format(R"({{
    "model": {{"path": "{}", "device": "cpu"}}, "data": {{"train": "judge_data.jsonl", "max_seq_len": 160}},
    "train": {{"output_dir": "judge", "max_steps": 150, "batch_size": 16, "seed": 1}}, "optim": {{"lr": 3e-3}},
    "checkpoint": {{"every_steps": 0}}, "log": {{"every_steps": 50, "progress": "never"}}}})", fixture("golden/gqa_default_rope")));
  auto r = run_safetune("train --config " + shell_quote(dir / "judge.json"));
  ASSERT_EQ(r.exit_code, 0) << r.output;

  test::write_toxic_task(dir.str());
  const auto train = toxic_task_runs(dir, 3e-3, R"(, "safety": {"estimator": "sampled", "sample": {"max_new_tokens": 40}})");
  const std::string with_judge = "--set safety.harm_judge.model=" + shell_quote(dir / "judge/final") +
                                 " --set " + shell_quote("safety.harm_judge.template=" + question);
  ASSERT_EQ((r = train("zero", with_judge + " --set safety.lambda=0")).exit_code, 0) << r.output;
  ASSERT_EQ((r = train("penalized", with_judge + " --set safety.lambda=10 --set eval.harmful=" +
                                        shell_quote(fixture("safety/harmful_eval.jsonl")) + " --set eval.max_new_tokens=8")).exit_code, 0)
      << r.output;
  const double p_zero = mean_p_toxic_of_last(dir / "runs/zero", 20), p_pen = mean_p_toxic_of_last(dir / "runs/penalized", 20);
  std::printf("[harm judge] the judge's mean P(harmful) of sampled continuations over the last 20 of 40 steps: λ=0 %.4f, "
              "λ=10 %.4f\n", p_zero, p_pen);
  EXPECT_LT(p_pen, 0.6 * p_zero);
  const auto manifest = json::parse(read_text_file(dir / "runs/penalized/manifest.json"));
  EXPECT_EQ(manifest["classifier"]["kind"], "harm_judge");
  EXPECT_TRUE(manifest["inputs"].contains("harm_judge")) << "the judge's files are hashed like the classifier's";
  const auto evaluations = dir / "runs/penalized/evaluations";
  ASSERT_TRUE(fs::exists(evaluations));
  const auto report = json::parse(read_text_file((*fs::directory_iterator(evaluations)).path().string()));
  EXPECT_EQ(report["harmful"]["toxicity_scorer"], "harm judge judge/final");
  EXPECT_TRUE(report["harmful"].contains("toxicity_rate"));

  // The soft estimator feeds the classifier embeddings; a judge reads text, so it is refused, saying what to do.
  r = train("soft", with_judge + " --set safety.lambda=1 --set safety.estimator=soft --set train.max_steps=1");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("set safety.estimator=sampled"), std::string::npos) << r.output;
}

// LoRA carries the safety objective: the soft penalty's gradient reaches the adapters (λ = 10 lowers P(toxic)
// against λ = 0 with the base frozen), and the sampled estimator, refusal mixing, evaluation and the gate
// all run through them.
TEST(SafetyTraining, LoraAdaptersCarryThePenaltiesMixAndGate) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(train_golden_classifier(dir));
  test::write_toxic_task(dir.str());
  const auto train = toxic_task_runs(dir, 2e-2, R"(, "lora": {"enabled": true, "r": 8, "alpha": 16})");
  const std::string with_classifier = "--set safety.classifier=" + shell_quote(dir / "classifier");
  test::CommandResult r;
  ASSERT_EQ((r = train("zero", with_classifier + " --set safety.lambda=0")).exit_code, 0) << r.output;
  ASSERT_EQ((r = train("penalized", with_classifier + " --set safety.lambda=10")).exit_code, 0) << r.output;
  const double p_zero = mean_p_toxic_of_last(dir / "runs/zero", 10), p_pen = mean_p_toxic_of_last(dir / "runs/penalized", 10);
  std::printf("[safety lora] mean P(toxic) over the last 10 steps: λ=0 %.4f, λ=10 %.4f\n", p_zero, p_pen);
  EXPECT_LT(p_pen, 0.5 * p_zero);
  EXPECT_TRUE(fs::exists(dir / "runs/penalized/final/adapter_model.safetensors"));

  const std::string everything =
      with_classifier + " --set safety.lambda=3 --set safety.estimator=sampled --set safety.sample.max_new_tokens=8" +
      " --set train.max_steps=12 --set safety.mix.pool=" + shell_quote(fixture("safety/pool.jsonl")) +
      " --set safety.mix.per_batch=2 --set eval.harmful=" + shell_quote(fixture("safety/harmful_eval.jsonl")) +
      " --set eval.every_steps=6 --set eval.max_new_tokens=8 --set gate.enabled=true";
  ASSERT_EQ((r = train("everything", everything)).exit_code, 0) << r.output;
  const auto manifest = json::parse(read_text_file(dir / "runs/everything/manifest.json"));
  EXPECT_EQ(manifest["trainable"]["kind"], "lora");
  EXPECT_TRUE(manifest.contains("safety_subset"));
  int evals = 0;
  for (const auto& line : test::read_jsonl_file(dir / "runs/everything/metrics.jsonl")) evals += line["type"] == "eval";
  EXPECT_GE(evals, 2);
}

}  // namespace
}  // namespace st
