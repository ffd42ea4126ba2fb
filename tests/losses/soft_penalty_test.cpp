// tests/losses/soft_penalty_test.cpp — the soft penalty's gradient against central finite differences in
// float64, the frozen classifier (no gradient, unchanged weights), rows without a response, and the
// classifier itself (bidirectional attention, padding invariance, folder round trip).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "common/tokens.h"
#include "losses/causal_lm_loss.h"
#include "losses/chunked_lm_loss.h"
#include "losses/soft_penalty.h"
#include "models/toxicity_classifier.h"
#include "tests/test_util.h"

namespace st {
namespace {

using test::tiny_classifier;

TEST(SoftPenalty, GradientMatchesFiniteDifferencesInFloat64) {
  const int64_t V = 12;
  auto classifier = tiny_classifier(V, torch::kFloat64);
  torch::manual_seed(3);
  auto logits = (2.0 * torch::randn({3, 7, V}, torch::kFloat64)).requires_grad_();
  auto labels = torch::full({3, 7}, kIgnoreIndex, torch::kLong);
  labels.index_put_({0, torch::indexing::Slice(3, 7)}, 5);  // a response in rows 0 and 1; none in row 2
  labels.index_put_({1, torch::indexing::Slice(2, 5)}, 4);
  auto out = soft_penalty(logits, labels, classifier, /*temperature=*/0.7);
  out.penalty.backward();
  auto grad = logits.grad().clone();
  EXPECT_FALSE(out.has_response[2].item<bool>());
  EXPECT_TRUE(torch::isfinite(grad).all().item<bool>());
  EXPECT_EQ(grad[2].abs().max().item<double>(), 0.0);       // no response: no gradient
  EXPECT_EQ(grad[0][6].abs().max().item<double>(), 0.0);    // the last position predicts nothing
  EXPECT_EQ(grad[0][0].abs().max().item<double>(), 0.0);    // predicts a prompt token

  // Criterion of torch.autograd.gradcheck, |analytic - numeric| <= atol + rtol * |numeric|, with atol 1e-8
  // and rtol 1e-5 (gradcheck's defaults are 1e-5 and 1e-3).
  const double h = 1e-6, atol = 1e-8, rtol = 1e-5;
  double worst = 0, worst_abs = 0;
  auto flat = logits.detach().clone();
  for (int64_t i = 0; i < flat.numel(); i += 3) {
    auto plus = flat.clone(), minus = flat.clone();
    plus.view(-1)[i] += h;
    minus.view(-1)[i] -= h;
    const double numeric = (soft_penalty(plus, labels, classifier, 0.7).penalty.item<double>() -
                            soft_penalty(minus, labels, classifier, 0.7).penalty.item<double>()) / (2 * h);
    const double analytic = grad.view(-1)[i].item<double>();
    worst = std::max(worst, std::abs(numeric - analytic) / (atol + rtol * std::abs(numeric)));
    worst_abs = std::max(worst_abs, std::abs(numeric - analytic));
  }
  std::printf("[soft penalty] penalty %.6f, max |analytic - finite difference| %.3e; worst ratio to "
              "(1e-8 + 1e-5 |numeric|) %.3f (must be <= 1)\n", out.penalty.item<double>(), worst_abs, worst);
  EXPECT_LE(worst, 1.0);
  for (const auto& p : classifier->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(SoftPenalty, IsMinusLogOfOneMinusPToxicAveragedOverSequencesWithAResponse) {
  const int64_t V = 12;
  auto classifier = tiny_classifier(V, torch::kFloat64);
  auto logits = torch::randn({2, 5, V}, torch::kFloat64);
  auto labels = torch::full({2, 5}, kIgnoreIndex, torch::kLong);
  labels.index_put_({0, torch::indexing::Slice(2, 5)}, 1);
  labels.index_put_({1, torch::indexing::Slice(1, 5)}, 1);
  auto out = soft_penalty(logits, labels, classifier, 1.0);
  const double expected = (-std::log(1 - out.p_toxic[0].item<double>()) - std::log(1 - out.p_toxic[1].item<double>())) / 2;
  EXPECT_NEAR(out.penalty.item<double>(), expected, 1e-12);
}

// The trainer's chunked path (CE and expected embeddings from hidden states, only where a label is, with
// the penalty's gradient added in a recomputing backward) against the full-logits path, in fp64: the
// CE, the penalty and P(toxic), and the gradients for the hidden states and the output weight of
// 0.37 CE + 1.3 penalty. Over τ, chunk sizes, row weights, a row subset (the penalty's `penalize` rows)
// and a penalty that is only measured.
TEST(SoftPenalty, ChunkedFromHiddenStatesEqualsFullLogits) {
  const int64_t B = 4, T = 9, H = 6, V = 12;
  auto classifier = tiny_classifier(V, torch::kFloat64);
  torch::manual_seed(5);
  auto labels = torch::randint(0, V, {B, T}, torch::kLong);
  labels.index_put_({0, torch::indexing::Slice(0, 4)}, kIgnoreIndex);  // a prompt
  labels.index_put_({1, torch::indexing::Slice(6, T)}, kIgnoreIndex);  // padding
  labels.index_put_({2}, kIgnoreIndex);                                // no response at all
  const auto row_weights = torch::tensor({1.0f, 0.5f, 2.0f, 1.0f});
  const auto subset = torch::tensor({0, 2, 3}, torch::kLong);
  const auto h0 = torch::randn({B, T, H}, torch::kFloat64), w0 = 0.8 * torch::randn({V, H}, torch::kFloat64);
  double worst = 0;
  for (const double tau : {1.0, 0.7})
    for (const int64_t chunk : {1, 4, 1000})
      for (const bool differentiable : {true, false})
        for (const bool all_rows : {true, false}) {
          const auto rw = all_rows ? torch::Tensor() : row_weights;
          auto pick = [&](const torch::Tensor& t) { return all_rows ? t : t.index_select(0, subset); };
          auto h1 = h0.clone().requires_grad_(), w1 = w0.clone().requires_grad_();
          auto h2 = h0.clone().requires_grad_(), w2 = w0.clone().requires_grad_();
          auto logits = h1.matmul(w1.t());  // [B, T, V]
          auto full_ce = causal_lm_loss(logits, labels, rw).sum;
          const ExpectedEmbeddingsRequest request{classifier->embedding_matrix(), tau, differentiable};
          auto out = chunked_causal_lm_loss(h2, w2, labels, chunk, rw, &request);
          SoftPenalty full, chunked;
          {
            torch::AutoGradMode grad_mode(differentiable);  // as the trainer does with λ = 0
            full = soft_penalty(pick(differentiable ? logits : logits.detach()), pick(labels), classifier, tau);
            chunked = soft_penalty_from_embeddings(pick(out.embeddings), pick(labels), classifier);
          }
          (0.37 * full_ce + (differentiable ? 1.3 * full.penalty : torch::zeros({}))).backward();
          (0.37 * out.ce.sum + (differentiable ? 1.3 * chunked.penalty : torch::zeros({}))).backward();
          const double d[] = {(full_ce - out.ce.sum).abs().item<double>(), (full.penalty - chunked.penalty).abs().item<double>(),
                              (full.p_toxic - chunked.p_toxic).abs().max().item<double>(),
                              (h1.grad() - h2.grad()).abs().max().item<double>(), (w1.grad() - w2.grad()).abs().max().item<double>()};
          for (const double x : d) worst = std::max(worst, x);
          EXPECT_LT(*std::max_element(std::begin(d), std::end(d)), 1e-12)
              << "tau " << tau << " chunk " << chunk << " differentiable " << differentiable << " all rows " << all_rows
              << ": ce " << d[0] << " penalty " << d[1] << " p_toxic " << d[2] << " grad h " << d[3] << " grad w " << d[4];
          EXPECT_EQ(out.ce.count.item<int64_t>(), labels.narrow(1, 1, T - 1).ne(kIgnoreIndex).sum().item<int64_t>());
          EXPECT_EQ(out.embeddings.requires_grad(), differentiable);
          if (differentiable) {
            EXPECT_GT(full.penalty.item<double>(), 0.0);
          }
        }
  std::printf("[chunked soft penalty] max |chunked - full logits| over CE, penalty, P(toxic), grad h, grad w: %.2e\n", worst);
  for (const auto& p : classifier->parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(ToxicityClassifier, AttentionIsBidirectionalAndPaddingDoesNotMatter) {
  auto classifier = tiny_classifier(20, torch::kFloat32);
  torch::NoGradGuard no_grad;
  auto ids = torch::tensor({{3, 4, 5, 6}}, torch::kLong);
  auto changed_last = torch::tensor({{3, 4, 5, 9}}, torch::kLong);
  auto mask = torch::ones({1, 4}, torch::kBool);
  auto h1 = classifier->model->forward_embeddings(classifier->model->embed_tokens(ids), {}, mask);
  auto h2 = classifier->model->forward_embeddings(classifier->model->embed_tokens(changed_last), {}, mask);
  EXPECT_GT((h1[0][0] - h2[0][0]).abs().max().item<double>(), 1e-4);  // position 0 sees the last token
  auto padded = torch::tensor({{3, 4, 5, 6, 0, 0}}, torch::kLong);
  auto padded_mask = torch::tensor({{1, 1, 1, 1, 0, 0}}, torch::kBool);
  EXPECT_LE((classifier(ids, mask) - classifier(padded, padded_mask)).abs().max().item<double>(), 1e-5);
}

TEST(ToxicityClassifier, FolderRoundTripIsFrozen) {
  test::TempDir dir;
  auto classifier = tiny_classifier(20, torch::kFloat32);
  save_classifier(dir.str(), classifier, {{test::fixture("tokenizer/tokenizer.model"), "tokenizer.model"}});
  auto loaded = load_classifier(dir.str());
  EXPECT_FALSE(loaded->is_training());
  EXPECT_EQ(loaded->config().categories, (std::vector<std::string>{"violence", "privacy"}));
  auto ids = torch::tensor({{3, 4, 5}}, torch::kLong);
  auto mask = torch::ones({1, 3}, torch::kBool);
  EXPECT_TRUE(torch::equal(loaded(ids, mask), classifier(ids, mask)));
  for (const auto& p : loaded->parameters()) EXPECT_FALSE(p.requires_grad());
  test::expect_error([&] { load_classifier(test::fixture("golden/gqa_default_rope")); }, ExitCode::bad_input,
                     "not a safetune toxicity classifier");
}

}  // namespace
}  // namespace st
