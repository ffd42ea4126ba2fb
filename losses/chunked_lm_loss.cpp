// losses/chunked_lm_loss.cpp — a custom autograd function: fp32 log-softmax per chunk in the forward,
// recomputed logits and the softmax-minus-one-hot gradient per chunk in the backward.
#include "losses/chunked_lm_loss.h"

#include <torch/autograd.h>

namespace st {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class ChunkedLinearCrossEntropy : public torch::autograd::Function<ChunkedLinearCrossEntropy> {
 public:
  // h [N, H], w [V, H], target [N] int64 (kIgnoreIndex = skip), scale [N] fp32 (row weight, 0 where ignored)
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& h, const torch::Tensor& w,
                               const torch::Tensor& target, const torch::Tensor& scale, int64_t chunk) {
    torch::NoGradGuard no_grad;
    auto total = torch::zeros({}, h.options().dtype(torch::kFloat32));
    const int64_t N = h.size(0);
    const auto wc = w.to(h.scalar_type());
    for (int64_t start = 0; start < N; start += chunk) {
      const int64_t n = std::min(chunk, N - start);
      auto logits = h.narrow(0, start, n).matmul(wc.t()).to(torch::kFloat32);  // [n, V]
      auto t = target.narrow(0, start, n);
      auto picked = logits.gather(/*dim=*/1, t.clamp_min(0).unsqueeze(1)).squeeze(1);  // [n]
      total += ((logits.logsumexp(/*dim=*/1) - picked) * scale.narrow(0, start, n)).sum();
    }
    ctx->save_for_backward({h, w, target, scale});
    ctx->saved_data["chunk"] = chunk;
    return total;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto &h = saved[0], &w = saved[1], &target = saved[2], &scale = saved[3];
    const int64_t chunk = ctx->saved_data["chunk"].toInt();
    const auto g = grad_outputs[0].to(torch::kFloat32);
    const int64_t N = h.size(0);
    const auto wc = w.to(h.scalar_type());
    auto grad_h = torch::empty_like(h);
    auto grad_w = torch::zeros(w.sizes(), w.options().dtype(torch::kFloat32));
    for (int64_t start = 0; start < N; start += chunk) {
      const int64_t n = std::min(chunk, N - start);
      auto hc = h.narrow(0, start, n);
      auto logits = hc.matmul(wc.t()).to(torch::kFloat32);  // [n, V] recomputed
      auto dlogits = torch::softmax(logits, /*dim=*/1);       // d(lse - picked)/dlogits = softmax - onehot
      auto t = target.narrow(0, start, n).clamp_min(0).unsqueeze(1);
      dlogits.scatter_add_(/*dim=*/1, t, torch::full({n, 1}, -1.0f, dlogits.options()));
      dlogits.mul_((scale.narrow(0, start, n) * g).unsqueeze(1));
      auto d = dlogits.to(h.scalar_type());
      grad_h.narrow(0, start, n).copy_(d.matmul(wc));
      grad_w.add_(d.t().matmul(hc).to(torch::kFloat32));
    }
    return {grad_h, grad_w.to(w.scalar_type()), torch::Tensor(), torch::Tensor(), torch::Tensor()};
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
  auto sum = ChunkedLinearCrossEntropy::apply(h, weight, target, scale, chunk_positions);
  return {sum, valid.sum()};
}

}  // namespace st
