// Fused CPU kernels (RMSNorm, rotary, SwiGLU) against the composite ATen form, which the golden tests tie
// to transformers: forward values and every input gradient, fp64 and fp32, and thread-count independence.
#include <ATen/Parallel.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <functional>

#include "models/llama_ops.h"

namespace st {
namespace {

// Restores the default mode however a test ends.
struct ModeGuard {
  ~ModeGuard() { set_llama_ops_mode(LlamaOpsMode::fused); }
};

// Runs `f` on fresh leaf copies of `inputs` in `mode`; returns the output, then each input's gradient
// for the upstream gradient `upstream` (a fixed random tensor of the output's shape).
std::vector<torch::Tensor> run(LlamaOpsMode mode, const std::function<torch::Tensor(std::vector<torch::Tensor>&)>& f,
                               const std::vector<torch::Tensor>& inputs, const std::vector<bool>& needs_grad,
                               const torch::Tensor& upstream) {
  ModeGuard guard;
  set_llama_ops_mode(mode);
  std::vector<torch::Tensor> leaves;
  for (size_t i = 0; i < inputs.size(); ++i) leaves.push_back(inputs[i].clone().requires_grad_(needs_grad[i]));
  auto out = f(leaves);
  out.backward(upstream);
  std::vector<torch::Tensor> result{out.detach()};
  for (size_t i = 0; i < leaves.size(); ++i)
    if (needs_grad[i]) result.push_back(leaves[i].grad());
  return result;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// Fused and composite agree on the output and every gradient within `tol` (absolute, values are O(1)).
void expect_forms_agree(const char* name, const std::function<torch::Tensor(std::vector<torch::Tensor>&)>& f,
                        const std::vector<torch::Tensor>& inputs, const std::vector<bool>& needs_grad,
                        const std::vector<int64_t>& out_shape, double tol) {
  torch::manual_seed(7);
  const auto upstream = torch::randn(out_shape, inputs[0].options());
  const auto fused = run(LlamaOpsMode::fused, f, inputs, needs_grad, upstream);
  const auto composite = run(LlamaOpsMode::composite, f, inputs, needs_grad, upstream);
  ASSERT_EQ(fused.size(), composite.size());
  for (size_t i = 0; i < fused.size(); ++i) {
    ASSERT_EQ(fused[i].sizes(), composite[i].sizes()) << name << " tensor " << i;
    const double d = max_diff(fused[i], composite[i]);
    std::printf("[llama ops %s %s] %s max |fused - composite| %.3e (tol %.0e)\n", name,
                inputs[0].scalar_type() == torch::kFloat64 ? "fp64" : "fp32", i == 0 ? "output" : "grad", d, tol);
    EXPECT_LE(d, tol) << name << " tensor " << i;
  }
}

class LlamaOps : public ::testing::TestWithParam<torch::ScalarType> {
 protected:
  double tol() const { return GetParam() == torch::kFloat64 ? 1e-12 : 2e-5; }
  torch::TensorOptions opts() const { return torch::TensorOptions().dtype(GetParam()); }
};

TEST_P(LlamaOps, RmsNormMatchesCompositeIncludingWeightGradient) {
  torch::manual_seed(0);
  // 150 rows: more than two gradient blocks and a partial last block.
  auto x = 3.0 * torch::randn({3, 50, 96}, opts());
  auto w = 1.0 + 0.5 * torch::randn({96}, opts());
  expect_forms_agree(
      "rms_norm", [](std::vector<torch::Tensor>& t) { return rms_norm(t[0], t[1], 1e-5); }, {x, w}, {true, true},
      {3, 50, 96}, tol());
}

TEST_P(LlamaOps, RotaryMatchesCompositeForSharedAndPerRowTables) {
  torch::manual_seed(1);
  auto x = torch::randn({2, 9, 3, 8}, opts());  // [B, T, heads, D]
  for (int64_t tables : {1, 2}) {
    auto angles = torch::rand({tables, 9, 4}, opts()) * 6.0;
    auto cos = torch::cat({angles.cos(), angles.cos()}, /*dim=*/-1), sin = torch::cat({angles.sin(), angles.sin()}, -1);
    expect_forms_agree(
        "rotary", [&](std::vector<torch::Tensor>& t) { return apply_rotary(t[0], cos, sin); }, {x}, {true},
        {2, 9, 3, 8}, tol());
  }
}

TEST_P(LlamaOps, RotaryOfATransposedViewMatches) {
  torch::manual_seed(2);
  auto x = torch::randn({2, 3, 9, 8}, opts());  // taken as [B, T, heads, D] after a transpose: not contiguous
  auto angles = torch::rand({1, 3, 4}, opts());
  auto cos = torch::cat({angles.cos(), angles.cos()}, -1), sin = torch::cat({angles.sin(), angles.sin()}, -1);
  expect_forms_agree(
      "rotary-view", [&](std::vector<torch::Tensor>& t) { return apply_rotary(t[0].transpose(1, 2).transpose(1, 2), cos, sin); },
      {x}, {true}, {2, 3, 9, 8}, tol());
}

TEST_P(LlamaOps, RotaryReadsANarrowedProjectionInPlace) {
  torch::manual_seed(5);
  auto qkv = torch::randn({2, 9, 5 * 8}, opts());  // [B, T, (3 + 1 + 1) heads x D], as the fused projection
  auto angles = torch::rand({1, 9, 4}, opts());
  auto cos = torch::cat({angles.cos(), angles.cos()}, -1), sin = torch::cat({angles.sin(), angles.sin()}, -1);
  expect_forms_agree(
      "rotary-narrow", [&](std::vector<torch::Tensor>& t) { return apply_rotary(t[0].narrow(-1, 24, 8).view({2, 9, 1, 8}), cos, sin); },
      {qkv}, {true}, {2, 9, 1, 8}, tol());
}

TEST_P(LlamaOps, SwigluMatchesComposite) {
  torch::manual_seed(3);
  auto gate = 4.0 * torch::randn({4, 5, 70}, opts()), up = torch::randn({4, 5, 70}, opts());
  expect_forms_agree(
      "swiglu", [](std::vector<torch::Tensor>& t) { return swiglu(t[0], t[1]); }, {gate, up}, {true, true},
      {4, 5, 70}, tol());
}

INSTANTIATE_TEST_SUITE_P(Dtypes, LlamaOps, ::testing::Values(torch::kFloat64, torch::kFloat32));

TEST(LlamaOpsDeterminism, RmsNormGradientsAreBitIdenticalForAnyThreadCount) {
  torch::manual_seed(4);
  auto x = torch::randn({700, 64}), w = torch::randn({64}), g = torch::randn({700, 64});
  const int threads = at::get_num_threads();
  std::vector<torch::Tensor> grads;
  for (int n : {1, 2, 3}) {
    at::set_num_threads(n);
    auto xl = x.clone().requires_grad_(), wl = w.clone().requires_grad_();
    rms_norm(xl, wl, 1e-6).backward(g);
    grads.push_back(torch::cat({xl.grad().flatten(), wl.grad()}));
  }
  at::set_num_threads(threads);
  EXPECT_TRUE(torch::equal(grads[0], grads[1]));
  EXPECT_TRUE(torch::equal(grads[0], grads[2]));
}

TEST(LlamaOpsDispatch, OtherDtypesUseTheCompositeForm) {
  // bf16 on CPU is not fused; the composite result keeps transformers' dtype rules (fp32 weight * bf16).
  auto x = torch::randn({2, 8}).to(torch::kBFloat16);
  auto w = torch::ones({8});
  auto y = rms_norm(x, w, 1e-6);
  EXPECT_EQ(y.scalar_type(), torch::kFloat32);
  EXPECT_LE(max_diff(y, x.to(torch::kFloat32) * torch::rsqrt(x.to(torch::kFloat32).pow(2).mean(-1, true) + 1e-6)), 2e-2);
}

}  // namespace
}  // namespace st
