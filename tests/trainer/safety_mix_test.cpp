// tests/trainer/safety_mix_test.cpp — refusal mixing in real runs: the subset file and its reasons,
// per-step metrics, bit-exact resume with the mixer mid-stream, every strategy end to end, and impossible
// requests. The effect on refusal rates is in safety_effect_test.cpp.
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
using test::deterministic_metrics;
using test::final_weights;
using test::fixture;
using test::read_jsonl_file;
using test::train_command;
using test::run_safetune;
using test::shell_quote;
using test::TempDir;

std::string mix_config(const TempDir& dir) {
  const auto path = dir / "mix.json";
  write_text_file_atomic(path, fmt::format(R"({{
    "model": {{"path": "{}", "device": "cpu"}}, "data": {{"train": "{}", "max_seq_len": 64}},
    "train": {{"output_dir": "run", "max_steps": 8, "batch_size": 4, "grad_accum": 2, "seed": 3}},
    "optim": {{"lr": 3e-3}}, "checkpoint": {{"every_steps": 0, "keep_last": 5}}, "log": {{"every_steps": 1, "progress": "never"}},
    "safety": {{"mix": {{"pool": "{}", "strategy": "stratified", "budget": 12, "per_batch": 2}}}}}})",
                                           fixture("golden/gqa_default_rope"), fixture("train/train.jsonl"),
                                           fixture("safety/pool.jsonl")));
  return path;
}

TEST(SafetyMixRun, RecordsTheSubsetLogsEachStepAndResumesBitExactly) {
  TempDir dir;
  const auto config = mix_config(dir);
  auto r = run_safetune(train_command(config, dir / "straight"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("subset of 12 by stratified"), std::string::npos) << r.output;

  // The subset: 12 refusals, 2 per category (6 categories), each with its reason.
  const auto subset = read_jsonl_file(dir / "straight/safety_subset.jsonl");
  ASSERT_EQ(subset.size(), 12u);
  std::map<std::string, int> per_category;
  for (const auto& s : subset) {
    EXPECT_EQ(s["behavior"], "refusal");
    EXPECT_NE(s["reason"].get<std::string>().find("stratum " + s["category"].get<std::string>()), std::string::npos);
    per_category[s["category"].get<std::string>()] += 1;
  }
  EXPECT_EQ(per_category.size(), 6u);
  for (const auto& [c, n] : per_category) EXPECT_EQ(n, 2) << c;
  const auto manifest = json::parse(read_text_file(dir / "straight/manifest.json"));
  EXPECT_EQ(manifest["safety_subset"]["size"], 12);
  EXPECT_EQ(manifest["safety_subset"]["pool"]["records"], 300);
  EXPECT_EQ(manifest["safety_subset"]["sha256"].get<std::string>().size(), 64u);

  // Every logged step used 2 micro-batches x 2 safety examples, cycling through the categories: over
  // 8 steps (32 draws) each of the 6 categories is drawn 5 or 6 times.
  std::map<std::string, int64_t> drawn;
  for (const auto& row : deterministic_metrics(dir / "straight")) {
    if (row["type"] != "train") continue;
    EXPECT_EQ(row["safety_examples"], 4);
    int64_t sum = 0;
    for (const auto& [c, n] : row["safety_categories"].items()) sum += n.get<int64_t>(), drawn[c] += n.get<int64_t>();
    EXPECT_EQ(sum, 4);
  }
  ASSERT_EQ(drawn.size(), 6u);
  for (const auto& [c, n] : drawn) EXPECT_TRUE(n == 5 || n == 6) << c << " drawn " << n;

  // Stop at step 3, resume: the mixer continues mid-stream and the run ends byte-identical.
  ASSERT_EQ(run_safetune(train_command(config, dir / "stopped", "--set train.stop_at_step=3")).exit_code, 75);
  r = run_safetune(train_command(config, dir / "stopped"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(final_weights(dir / "straight"), final_weights(dir / "stopped"));
  EXPECT_EQ(deterministic_metrics(dir / "straight"), deterministic_metrics(dir / "stopped"));
  EXPECT_EQ(read_text_file(dir / "straight/safety_subset.jsonl"), read_text_file(dir / "stopped/safety_subset.jsonl"));

  // Same seed, same subset; another seed, another subset.
  ASSERT_EQ(run_safetune(train_command(config, dir / "seed4", "--set train.seed=4 --set train.max_steps=1")).exit_code, 0);
  EXPECT_NE(read_text_file(dir / "straight/safety_subset.jsonl"), read_text_file(dir / "seed4/safety_subset.jsonl"));
}

TEST(SafetyMixRun, EveryStrategyRunsAndImpossibleRequestsAreExit2) {
  TempDir dir;
  const auto config = mix_config(dir);
  for (const std::string strategy : {"random", "prototype", "similar"}) {
    auto r = run_safetune(train_command(config, dir / strategy, "--set train.max_steps=2 --set safety.mix.strategy=" + strategy));
    ASSERT_EQ(r.exit_code, 0) << strategy << "\n" << r.output;
    const auto subset = read_jsonl_file(dir / strategy + "/safety_subset.jsonl");
    ASSERT_EQ(subset.size(), 12u) << strategy;
    const std::string expected = strategy == "random" ? "random draw" : "cosine";
    EXPECT_NE(subset[0]["reason"].get<std::string>().find(expected), std::string::npos) << subset[0].dump();
  }
  // Penalty scope and a loss weight are accepted alongside the mix (effects tested in train_step).
  auto r = run_safetune(train_command(config, dir / "weighted", "--set train.max_steps=1 --set safety.mix.loss_weight=0.5 --set safety.mix.ratio=0.5"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("2 per micro-batch"), std::string::npos) << r.output;

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"--set safety.mix.budget=1000", "1000 examples requested but the filtered pool has only 120"},
      {"--set safety.mix.budget=0", "safety.mix.budget: expected a count in [1, 1e9]"},
      {"--set safety.mix.budget=150%", "safety.mix.budget: expected a count in [1, 1e9] or a percentage"},
      {"--set 'safety.mix.categories=[\"weather\"]'", "category 'weather' has no examples with behavior in [refusal]"},
      {"--set 'safety.mix.behaviors=[\"refusals\"]'", "unknown behaviour 'refusals'"},
      {"--set safety.mix.strategy=nearest", "safety.mix.strategy: expected one of random, stratified, prototype, similar"},
      {"--set safety.mix.per_batch=0", "safety.mix.per_batch is 0"},
      {"--set safety.mix.pool=" + shell_quote(fixture("train/train.jsonl")), "train.jsonl:1: missing \"prompt\""},
  };
  for (const auto& [sets, fragment] : bad) {
    r = run_safetune(train_command(config, dir / "bad", sets));
    EXPECT_EQ(r.exit_code, 2) << sets << "\n" << r.output;
    EXPECT_NE(r.output.find(fragment), std::string::npos) << sets << "\n" << r.output;
    fs::remove_all(dir / "bad");
  }
}

}  // namespace
}  // namespace st
