// tests/trainer/packing_test.cpp — sequence packing: first-fit decreasing, and a packed batch's loss and
// gradients equal the padded batch's on the same examples (plain, with activation checkpointing, through
// train_step with safety rows weighted, with the soft and the sampled penalty); a packed run resumes
// bit-exactly and records what packing saved.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <memory>

#include "common/files.h"
#include "data/batcher.h"
#include "data/data_reader.h"
#include "data/sentencepiece_tokenizer.h"
#include "losses/causal_lm_loss.h"
#include "losses/sampled_estimator.h"
#include "losses/soft_estimator.h"
#include "models/model_folder.h"
#include "tests/test_util.h"
#include "trainer/optimizer.h"
#include "trainer/train_step.h"

namespace st {
namespace {
namespace fs = std::filesystem;
using test::final_weights;
using test::fixture;
using test::run_safetune;
using test::shell_quote;
using test::TempDir;

constexpr double kTolerance = 1e-5;

TEST(Packing, FirstFitDecreasingIsDeterministicAndFillsRows) {
  // Longest first: 8 opens row 0, 7 row 1, 5 row 2; 3 fits row 1, 2 fits row 0; 11 is too long for any.
  EXPECT_EQ(first_fit_decreasing({5, 3, 8, 2, 7, 11}, 10), (std::vector<std::vector<size_t>>{{5}, {2, 3}, {4, 1}, {0}}));
  EXPECT_EQ(first_fit_decreasing({4, 4, 4}, 8), (std::vector<std::vector<size_t>>{{0, 1}, {2}}));  // ties keep input order
}

TEST(Packing, TheLayoutNeverHasMorePositionsThanPadding) {
  // Four equal items: filling rows of 64 would give 2 rows of 60 = 120 positions against 80 padded.
  const auto same = packed_layout({20, 20, 20, 20}, 64);
  EXPECT_EQ(same.size() * 20, 80u);
  // One long item and many short ones: the short ones share rows as long as the long one.
  const auto mixed = packed_layout({60, 10, 12, 9, 14, 8, 11, 13}, 64);
  EXPECT_EQ(mixed, (std::vector<std::vector<size_t>>{{0}, {4, 7, 2, 6, 1}, {3, 5}}));  // 60 | 14 13 12 11 10 | 9 8
}

TokenizedData examples() {
  static const SentencePieceTokenizer tok(fixture("golden/gqa_default_rope/tokenizer.model"));
  DataOptions o;
  o.max_seq_len = 64;
  return read_tokenized({fixture("train/train.jsonl")}, tok, o, {}).data;
}

std::vector<TokenRow> rows_of(const TokenizedData& data, size_t n) {
  std::vector<TokenRow> rows;
  for (size_t i = 0; i < n; ++i) rows.push_back(data.row(i));
  return rows;
}

struct LossAndGrads {
  double loss;
  std::vector<torch::Tensor> grads;
};

LossAndGrads loss_and_grads(LlamaForCausalLM& model, const Batch& b) {
  model->zero_grad();
  const auto mask = b.segment_ids.defined() ? packed_attention_mask(b.segment_ids) : torch::Tensor();
  const auto logits = model(b.input_ids, b.position_ids, mask);  // [B, T, V]
  const auto ce = causal_lm_loss(logits, b.labels);
  const auto loss = ce.sum / ce.count.to(torch::kFloat64);
  loss.backward();
  LossAndGrads out{loss.item<double>(), {}};
  for (const auto& p : model->parameters()) out.grads.push_back(p.grad().clone());
  return out;
}

double max_grad_difference(const LossAndGrads& a, const LossAndGrads& b) {
  double worst = 0;
  for (size_t i = 0; i < a.grads.size(); ++i) worst = std::max(worst, (a.grads[i] - b.grads[i]).abs().max().item<double>());
  return worst;
}

TEST(Packing, PackedLossAndGradientsEqualThePaddedBatch) {
  torch::manual_seed(0);
  auto model = load_llama(fixture("golden/gqa_default_rope"));
  const auto data = examples();
  const auto rows = rows_of(data, 12);
  const Batch padded = collate(rows, /*pad_id=*/0), packed = collate_packed(rows, /*pad_id=*/0, /*capacity=*/256);
  ASSERT_LT(packed.input_ids.size(0), padded.input_ids.size(0));  // it did pack
  EXPECT_EQ(packed.loss_tokens(), padded.loss_tokens());
  for (bool checkpoint : {false, true}) {
    model->model->checkpoint_layers = checkpoint;
    const auto a = loss_and_grads(model, padded), b = loss_and_grads(model, packed);
    const double grad_diff = max_grad_difference(a, b);
    std::printf("checkpointing %d: loss %.8f vs %.8f (diff %.2e), max gradient difference %.2e (tolerance %.0e)\n",
                checkpoint, a.loss, b.loss, std::abs(a.loss - b.loss), grad_diff, kTolerance);
    EXPECT_NEAR(a.loss, b.loss, kTolerance);
    EXPECT_LT(grad_diff, kTolerance);
  }
}

struct StepOutcome {
  StepResult result;
  torch::Tensor weights;  // every parameter after the step, flattened
};

// A fresh estimator for each step (the sampled one keeps a running baseline), or none.
using EstimatorFactory = std::function<std::unique_ptr<PenaltyEstimator>()>;

// One train_step from the golden model on `rows` (the last `safety_rows` marked as safety rows), padded or
// packed into rows of 256 tokens.
StepOutcome one_step(const std::vector<TokenRow>& rows, bool pack, int64_t safety_rows, StepOptions options,
                     const EstimatorFactory& make_estimator) {
  const auto estimator = make_estimator ? make_estimator() : nullptr;
  options.estimator = estimator.get();
  torch::manual_seed(0);
  auto model = load_llama(fixture("golden/gqa_default_rope"));
  AdamW optimizer(model->named_parameters().pairs(), AdamWOptions{});
  const Batch b = pack ? collate_packed(rows, 0, 256, safety_rows) : collate(rows, 0, safety_rows);
  if (pack) {
    EXPECT_LT(b.input_ids.size(0), static_cast<int64_t>(rows.size()));  // it did pack
    if (safety_rows > 1) {
      EXPECT_LT(b.is_safety.sum().item<int64_t>(), safety_rows);  // safety examples share rows of their own
    }
  }
  StepOutcome out{train_step(model, optimizer, {b}, options), {}};
  std::vector<torch::Tensor> flat;
  for (const auto& p : model->parameters()) flat.push_back(p.detach().flatten());
  out.weights = torch::cat(flat);
  return out;
}

// The padded and the packed step agree: CE, penalty, gradient norm and every weight within kTolerance.
void expect_packed_step_equals_padded(const std::string& what, const std::vector<TokenRow>& rows, int64_t safety_rows,
                                      const StepOptions& options, const EstimatorFactory& make_estimator = nullptr) {
  const auto padded = one_step(rows, false, safety_rows, options, make_estimator);
  const auto packed = one_step(rows, true, safety_rows, options, make_estimator);
  const auto &a = padded.result, &b = packed.result;
  const double weight_diff = (padded.weights - packed.weights).abs().max().item<double>();
  std::printf("%s: CE %.8f vs %.8f, penalty %.8f vs %.8f over %lld and %lld sequences, gradient norm %.8f vs %.8f, "
              "max weight difference %.2e (tolerance %.0e)\n", what.c_str(), a.ce, b.ce, a.penalty, b.penalty,
              static_cast<long long>(a.penalized), static_cast<long long>(b.penalized), a.grad_norm, b.grad_norm, weight_diff,
              kTolerance);
  EXPECT_NEAR(a.ce, b.ce, kTolerance);
  EXPECT_NEAR(a.penalty, b.penalty, kTolerance);
  EXPECT_NEAR(a.p_toxic, b.p_toxic, kTolerance);
  EXPECT_EQ(a.penalized, b.penalized);
  EXPECT_NEAR(a.grad_norm, b.grad_norm, kTolerance);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_LT(weight_diff, kTolerance);
}

TEST(Packing, ATrainStepOnPackedRowsWithSafetyRowsEqualsThePaddedStep) {
  StepOptions options;
  options.lr = 1e-3;
  options.safety_loss_weight = 0.3;
  const auto data = examples();  // the rows point into it
  expect_packed_step_equals_padded("weighted safety rows", rows_of(data, 10), /*safety_rows=*/3, options);
}

TEST(Packing, TheSoftPenaltyScoresEachPackedExampleAsThePaddedRow) {
  // Packed rows hold several examples; the penalty still scores one sequence per example (cut out of its row).
  const EstimatorFactory soft = [] { return std::make_unique<SoftEstimator>(test::tiny_classifier(/*vocab=*/256), /*temperature=*/1.0); };
  StepOptions options;
  options.lr = 1e-3;
  options.lambda = 2.0;
  options.penalize = PenalizedRows::Task;
  const auto data = examples();
  const auto rows = rows_of(data, 10);
  expect_packed_step_equals_padded("soft penalty, full logits", rows, /*safety_rows=*/3, options, soft);
  options.ce_chunk = 32;  // the expected embeddings from hidden states in chunks of positions
  expect_packed_step_equals_padded("soft penalty, chunked", rows, /*safety_rows=*/3, options, soft);
}

// A stand-in scorer: the share of letters 'a' to 'm' in the text, so P(toxic) depends on what was sampled.
class LetterScorer : public TextScorer {
 public:
  std::vector<double> score(const std::vector<std::string>&, const std::vector<std::string>& responses) override {
    std::vector<double> p;
    for (const auto& r : responses) {
      double low = 0;
      for (char ch : r) low += ch >= 'a' && ch <= 'm';
      p.push_back((1 + low) / (2.0 + static_cast<double>(r.size())));
    }
    return p;
  }
  double threshold() const override { return 0.5; }
  std::vector<torch::nn::Module*> frozen_modules() override { return {}; }
  std::string describe() const override { return "letters"; }
};

TEST(Packing, TheSampledPenaltySamplesForTheSameExamplesInTheSameOrder) {
  // The samples are seeded per micro-batch: the same prompts in the same order give the same samples, so the
  // packed step's penalty and update are the padded step's.
  static const SentencePieceTokenizer tok(fixture("golden/gqa_default_rope/tokenizer.model"));
  const EstimatorFactory sampled = [] {
    LmVocabulary vocabulary{[](const std::vector<int>& ids) { return tok.decode(ids); }, tok.eos_id(), /*pad_id=*/0};
    return std::make_unique<SampledEstimator>(std::make_shared<LetterScorer>(), vocabulary,
                                              SampledPenaltyOptions{/*temperature=*/1.0, /*max_new_tokens=*/8, /*baseline_momentum=*/0.9});
  };
  StepOptions options;
  options.lr = 1e-3;
  options.lambda = 1.0;
  options.penalty_seed = 11;
  const auto data = examples();
  expect_packed_step_equals_padded("sampled penalty", rows_of(data, 8), /*safety_rows=*/0, options, sampled);
}

TEST(Packing, APackedRunResumesBitExactlyAndRecordsWhatPackingSaved) {
  TempDir dir;
  write_text_file_atomic(dir / "run.json", fmt::format(R"({{
  "model": {{"path": "{}", "device": "cpu"}},
  "data": {{"train": "{}", "max_seq_len": 256, "packing": true, "group_by_length": false}},
  "train": {{"output_dir": "run", "max_steps": 6, "batch_size": 8, "grad_accum": 2, "seed": 3}},
  "optim": {{"lr": 2e-3}}, "checkpoint": {{"every_steps": 3}}, "eval": {{"at_start": false}},
  "log": {{"every_steps": 1, "progress": "never"}}}})", fixture("golden/gqa_default_rope"), fixture("train/train.jsonl")));
  const auto straight = dir / "straight", stopped = dir / "stopped";
  auto train = [&](const std::string& out, const std::string& extra) {
    return run_safetune("train --config " + shell_quote(dir / "run.json") + " --set train.output_dir=" + shell_quote(out) + " " + extra);
  };
  auto r = train(straight, "");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("packing: "), std::string::npos) << r.output;
  ASSERT_EQ(train(stopped, "--set train.stop_at_step=3").exit_code, 75);
  r = train(stopped, "--set data.packing=false");
  EXPECT_EQ(r.exit_code, 2) << r.output;  // locked: another layout would be another run
  EXPECT_NE(r.output.find("data.packing"), std::string::npos) << r.output;
  ASSERT_EQ(train(stopped, "").exit_code, 0);
  EXPECT_EQ(final_weights(straight), final_weights(stopped));
  const auto manifest = nlohmann::json::parse(read_text_file(fs::path(straight) / "manifest.json"));
  const auto& packing = manifest["data"]["packing"];
  EXPECT_TRUE(packing["enabled"].get<bool>());
  EXPECT_GT(packing["token_efficiency"].get<double>(), packing["token_efficiency_unpacked"].get<double>() + 0.1) << packing.dump();
}

}  // namespace
}  // namespace st
