// tests/losses/chunked_lm_loss_test.cpp — the chunked CE equals the plain one (value and gradients for
// the hidden states and the output weight), with ignored positions, row weights and a chunk size that
// does not divide the positions; and a training run with it matches one without.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/files.h"
#include "losses/causal_lm_loss.h"
#include "losses/chunked_lm_loss.h"
#include "tests/test_util.h"

namespace st {
namespace {
using test::fixture;
using test::run_safetune;
using test::shell_quote;
using test::TempDir;

TEST(ChunkedLmLoss, EqualsTheFullLogitsLossAndItsGradients) {
  torch::manual_seed(0);
  const int64_t B = 3, T = 17, H = 8, V = 11;
  auto labels = torch::randint(0, V, {B, T}, torch::kInt64);
  labels.index_put_({0, torch::indexing::Slice(0, 6)}, kIgnoreIndex);  // a prompt
  labels.index_put_({2, torch::indexing::Slice(10, T)}, kIgnoreIndex);  // padding
  const auto row_weights = torch::tensor({1.0f, 0.3f, 2.0f});
  for (const bool weighted : {false, true}) {
    for (const int64_t chunk : {1, 5, 48, 1000}) {
      auto h1 = torch::randn({B, T, H}).requires_grad_(true), w1 = torch::randn({V, H}).requires_grad_(true);
      auto h2 = h1.detach().clone().requires_grad_(true), w2 = w1.detach().clone().requires_grad_(true);
      const auto rw = weighted ? row_weights : torch::Tensor();
      auto full = causal_lm_loss(h1.matmul(w1.t()), labels, rw);
      auto chunked = chunked_causal_lm_loss(h2, w2, labels, chunk, rw).ce;
      // An upstream gradient other than 1 (the trainer divides by the step's tokens): the fused backward
      // scales the gradients it computed in the forward.
      (full.sum * 0.37).backward();
      (chunked.sum * 0.37).backward();
      const double d_loss = (full.sum - chunked.sum).abs().item<double>();
      const double d_h = (h1.grad() - h2.grad()).abs().max().item<double>();
      const double d_w = (w1.grad() - w2.grad()).abs().max().item<double>();
      std::printf("[chunked CE] weighted %d chunk %lld: |loss diff| %.2e, max |grad diff| hidden %.2e weight %.2e\n", weighted,
                  static_cast<long long>(chunk), d_loss, d_h, d_w);
      EXPECT_EQ(full.count.item<int64_t>(), chunked.count.item<int64_t>());
      EXPECT_LT(d_loss, 1e-4 * std::max(1.0, full.sum.abs().item<double>()));
      EXPECT_LT(d_h, 1e-5);
      EXPECT_LT(d_w, 1e-5);
    }
  }
}

TEST(ChunkedLmLoss, TrainingWithItMatchesTrainingWithout) {
  TempDir dir;
  write_text_file_atomic(dir / "run.json", fmt::format(R"({{
    "model": {{"path": "{}", "device": "cpu"}}, "data": {{"train": "{}", "max_seq_len": 64}},
    "train": {{"output_dir": "off", "max_steps": 6, "batch_size": 8}}, "optim": {{"lr": 3e-3}},
    "checkpoint": {{"every_steps": 0}}, "log": {{"every_steps": 1, "progress": "never"}}}})",
                                                     fixture("golden/gqa_default_rope"), fixture("train/train.jsonl")));
  for (const char* mode : {"off", "on"}) {
    auto r = run_safetune("train --config " + shell_quote(dir / "run.json") + " --set train.chunked_loss=" + mode +
                          " --set train.output_dir=" + shell_quote(dir / mode));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  const auto a = test::deterministic_metrics(dir / "off"), b = test::deterministic_metrics(dir / "on");
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i]["ce"].get<double>(), b[i]["ce"].get<double>(), 1e-4) << i;
}

}  // namespace
}  // namespace st
