// losses/chunked_lm_loss.cpp — a custom autograd function that computes, chunk by chunk, the logits, the
// loss and, when a gradient is wanted, the loss's gradients for the hidden states and the output weight in
// the same pass (softmax minus one-hot, times the row scale). The backward only multiplies the stored
// gradients by the upstream scalar: the logits matmul runs once, not again in the backward.
#include "losses/chunked_lm_loss.h"

#include <ATen/autocast_mode.h>
#include <torch/autograd.h>

namespace st {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The matmuls' dtype: autocast's on a device where it is on (bf16 on CUDA), else the hidden states'.
torch::ScalarType compute_dtype(const torch::Tensor& h) {
  const auto type = h.device().type();
  return at::autocast::is_autocast_enabled(type) ? at::autocast::get_autocast_dtype(type) : h.scalar_type();
}

class FusedLinearCrossEntropy : public torch::autograd::Function<FusedLinearCrossEntropy> {
 public:
  // h [N, H], w [V, H], target [N] int64 (kIgnoreIndex = skip), scale [N] fp32 (row weight, 0 where ignored)
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& h, const torch::Tensor& w,
                               const torch::Tensor& target, const torch::Tensor& scale, int64_t chunk) {
    torch::NoGradGuard no_grad;
    const bool want_h = ctx->needs_input_grad(0), want_w = ctx->needs_input_grad(1);
    const auto dtype = compute_dtype(h);
    const auto hq = h.to(dtype), wq = w.to(dtype);  // explicit, so autocast has nothing left to cast
    auto total = torch::zeros({}, h.options().dtype(torch::kFloat32));
    auto grad_h = want_h ? torch::empty_like(h) : torch::Tensor();                                   // [N, H]
    auto grad_w = want_w ? torch::zeros(w.sizes(), w.options().dtype(torch::kFloat32)) : torch::Tensor();  // [V, H]
    const int64_t N = h.size(0);
    for (int64_t start = 0; start < N; start += chunk) {
      const int64_t n = std::min(chunk, N - start);
      auto hc = hq.narrow(0, start, n);
      auto logits = hc.matmul(wq.t()).to(torch::kFloat32);  // [n, V]
      auto t = target.narrow(0, start, n).clamp_min(0).unsqueeze(1);  // [n, 1]
      auto sc = scale.narrow(0, start, n);
      auto lse = logits.logsumexp(/*dim=*/1, /*keepdim=*/true);  // [n, 1]
      total += ((lse.squeeze(1) - logits.gather(/*dim=*/1, t).squeeze(1)) * sc).sum();
      if (!want_h && !want_w) continue;
      // d(lse - picked)/dlogits = softmax - onehot, scaled per row; built in the logits' memory.
      auto d = logits.sub_(lse).exp_();
      d.scatter_add_(/*dim=*/1, t, torch::full({n, 1}, -1.0f, d.options()));
      d.mul_(sc.unsqueeze(1));
      auto dq = d.to(dtype);
      if (want_h) grad_h.narrow(0, start, n).copy_(dq.mm(wq));
      if (want_w && dtype == torch::kFloat32) grad_w.addmm_(dq.t(), hc);
      else if (want_w) grad_w.add_(dq.t().mm(hc));
    }
    ctx->save_for_backward({grad_h, grad_w});
    return total;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto& g = grad_outputs[0];  // [] the upstream scalar
    auto scaled = [&](const torch::Tensor& t) { return t.defined() ? t * g.to(t.scalar_type()) : torch::Tensor(); };
    return {scaled(saved[0]), scaled(saved[1]), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

TokenLoss chunked_causal_lm_loss(const torch::Tensor& hidden, const torch::Tensor& weight, const torch::Tensor& labels,
                                 int64_t chunk_positions, const torch::Tensor& row_weights) {
  const int64_t B = hidden.size(0), T = hidden.size(1), H = hidden.size(2);
  auto h = hidden.narrow(/*dim=*/1, 0, T - 1).reshape({B * (T - 1), H});                 // [N, H]
  auto target = labels.narrow(/*dim=*/1, 1, T - 1).reshape({-1}).to(hidden.device());   // [N]
  auto valid = target.ne(kIgnoreIndex);
  auto scale = valid.to(torch::kFloat32);
  if (row_weights.defined())
    scale = (scale.view({B, T - 1}) * row_weights.to(scale.options()).unsqueeze(1)).reshape({-1});
  auto sum = FusedLinearCrossEntropy::apply(h, weight, target, scale, chunk_positions);
  return {sum, valid.sum()};
}

}  // namespace st
