// tests/trainer/cuda_train_test.cpp — the CUDA training path end to end (ctest label `gpu`; skips cleanly
// without a GPU): bf16 autocast with the fused linear CE, activation checkpointing and fused AdamW learns,
// starts from the same loss as fp32 on CPU, reports its attention kernel and peak memory; the soft
// penalty from chunks in bf16 starts where fp32 on CPU does and lowers P(toxic).
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <numeric>

#include "common/files.h"
#include "tests/test_util.h"

namespace st {
namespace {
using test::fixture;
using test::read_jsonl_file;
using test::run_safetune;
using test::TempDir;
using test::train_command;

TEST(TrainCuda, Bf16RunWithEveryFastPathLearnsAndStartsWhereCpuDoes) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  TempDir dir;
  const std::string config = dir / "run.json";
  write_text_file_atomic(config, fmt::format(R"({{
    "model": {{"path": "{}"}}, "data": {{"train": "{}", "max_seq_len": 64}},
    "train": {{"output_dir": "run", "max_steps": 30, "batch_size": 8, "activation_checkpointing": true,
               "chunked_loss": "on"}},
    "optim": {{"lr": 3e-3}}, "checkpoint": {{"every_steps": 0}}, "log": {{"every_steps": 1, "progress": "never"}}}})",
                                             fixture("golden/gqa_default_rope"), fixture("train/train.jsonl")));
  std::map<std::string, std::vector<nlohmann::json>> rows;
  for (const char* device : {"cuda", "cpu"}) {
    const std::string out = dir / device;
    const auto r = run_safetune(train_command(config, out, std::string("--set model.device=") + device));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    if (std::string(device) == "cuda") {
      EXPECT_NE(r.output.find("attention kernel: "), std::string::npos) << r.output;
      EXPECT_EQ(r.output.find("attention kernel: math"), std::string::npos) << r.output;
    }
    for (const auto& row : read_jsonl_file(out + "/metrics.jsonl"))
      if (row["type"] == "train") rows[device].push_back(row);
  }
  const auto& cuda = rows["cuda"];
  const auto& cpu = rows["cpu"];
  ASSERT_EQ(cuda.size(), 30u);
  const double first_cuda = cuda.front()["ce"], first_cpu = cpu.front()["ce"];
  const double last_cuda = cuda.back()["ce"];
  std::printf("[train cuda bf16] step-1 CE %.4f (CPU fp32 %.4f, rel diff %.2e, tol 2e-2); step-30 CE %.4f; peak %.1f MB\n",
              first_cuda, first_cpu, std::abs(first_cuda - first_cpu) / first_cpu, last_cuda,
              cuda.back()["cuda_peak_mb"].get<double>());
  EXPECT_LE(std::abs(first_cuda - first_cpu) / first_cpu, 2e-2);
  EXPECT_LT(last_cuda, 0.9 * first_cuda);  // CPU fp32 goes 5.73 -> 4.26 (0.74x) in these 30 steps
  EXPECT_GT(cuda.back()["cuda_peak_mb"].get<double>(), 0.0);
}

// On data where 40% of the responses are unsafe: the first step's P(toxic) (before any update) agrees
// with fp32 on CPU, and λ = 3 keeps P(toxic) well under the λ = 0 run's (on CPU, the last 5 of 20 steps:
// about 0.015 against 0.09).
TEST(TrainCuda, Bf16SoftPenaltyFromChunksStartsWhereCpuDoesAndLowersPToxic) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(test::train_classifier(dir.str(), fixture("golden/gqa_default_rope/tokenizer.model")));
  test::write_toxic_task(dir.str());
  const std::string config = dir / "run.json";
  write_text_file_atomic(config, fmt::format(R"({{
    "model": {{"path": "{}"}}, "data": {{"train": "toxic_task.jsonl", "max_seq_len": 64}},
    "train": {{"output_dir": "run", "max_steps": 20, "batch_size": 8, "chunked_loss": "on"}},
    "safety": {{"classifier": "classifier", "lambda": 3}},
    "optim": {{"lr": 3e-3}}, "checkpoint": {{"every_steps": 0}}, "log": {{"every_steps": 1, "progress": "never"}}}})",
                                             fixture("golden/gqa_default_rope")));
  std::map<std::string, std::vector<double>> p_toxic;
  for (const auto& [name, sets] : std::vector<std::pair<std::string, std::string>>{
           {"cuda", "--set model.device=cuda"}, {"cpu", "--set model.device=cpu"},
           {"cuda_free", "--set model.device=cuda --set safety.lambda=0"}}) {
    const auto r = run_safetune(train_command(config, dir / name, sets));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    for (const auto& row : read_jsonl_file(dir / name + "/metrics.jsonl"))
      if (row["type"] == "train") p_toxic[name].push_back(row["p_toxic"].get<double>());
    ASSERT_EQ(p_toxic[name].size(), 20u) << name;
  }
  auto last5 = [&](const std::string& name) { return std::accumulate(p_toxic[name].end() - 5, p_toxic[name].end(), 0.0) / 5; };
  std::printf("[train cuda bf16 soft] step-1 P(toxic) %.4f (CPU fp32 %.4f); last 5 of 20 steps: λ=3 %.4f, λ=0 %.4f\n",
              p_toxic["cuda"][0], p_toxic["cpu"][0], last5("cuda"), last5("cuda_free"));
  EXPECT_NEAR(p_toxic["cuda"][0], p_toxic["cpu"][0], 3e-3);  // bf16 logits and expected embeddings against fp32
  EXPECT_LT(last5("cuda"), 0.5 * last5("cuda_free"));
}

}  // namespace
}  // namespace st
