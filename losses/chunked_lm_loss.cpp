// losses/chunked_lm_loss.cpp — a custom autograd function over the positions that have a target. Per
// chunk it computes the logits, the loss, the soft penalty's expected embeddings when asked, and the
// gradients for the hidden states and the output weight (softmax minus one-hot, times the row scale,
// plus the penalty's term when it is differentiated).
#include "losses/chunked_lm_loss.h"

#include <ATen/autocast_mode.h>
#include <torch/autograd.h>

#include "common/check.h"
#include "common/device_copy.h"

namespace st {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The matmuls' dtype: autocast's on a device where it is on (bf16 on CUDA), else the hidden states'.
torch::ScalarType compute_dtype(const torch::Tensor& h) {
  const auto type = h.device().type();
  return at::autocast::is_autocast_enabled(type) ? at::autocast::get_autocast_dtype(type) : h.scalar_type();
}

// Softmax, log-sum-exp and gradients in fp32, or fp64 when the model computes in fp64 (the tests).
torch::ScalarType softmax_dtype(torch::ScalarType compute) {
  return compute == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
}

// softmax(logits / τ), reusing logsumexp(logits) when τ = 1.                                 // [n, V]
torch::Tensor tempered_softmax(const torch::Tensor& logits, const torch::Tensor& lse, double temperature) {
  return temperature == 1.0 ? (logits - lse).exp_() : torch::softmax(logits / temperature, /*dim=*/1);
}

// d(row-scaled CE)/d(logits) = (softmax - onehot) * scale, built in the logits' memory.       // [n, V]
torch::Tensor ce_logit_grad_(torch::Tensor& logits, const torch::Tensor& lse, const torch::Tensor& target,
                             const torch::Tensor& scale) {
  auto d = logits.sub_(lse).exp_();
  d.scatter_add_(/*dim=*/1, target, torch::full({d.size(0), 1}, -1.0, d.options()));
  return d.mul_(scale.unsqueeze(1));
}

// Adds one chunk's logits gradient d [n, V] to grad_h's rows [n, H] (when defined) and grad_w [V, H].
void add_chunk_grads(const torch::Tensor& d, const torch::Tensor& hc, const torch::Tensor& wq, torch::Tensor grad_h_rows,
                     torch::Tensor& grad_w) {
  const auto dq = d.to(hc.scalar_type());
  if (grad_h_rows.defined()) grad_h_rows.copy_(dq.mm(wq));
  if (!grad_w.defined()) return;
  if (grad_w.scalar_type() == dq.scalar_type()) grad_w.addmm_(dq.t(), hc);
  else grad_w.add_(dq.t().mm(hc));
}

class FusedLinearCrossEntropy : public torch::autograd::Function<FusedLinearCrossEntropy> {
 public:
  // h [M, H], w [V, H], target [M, 1] int64, scale [M] (row weight), embed_matrix [V, Hc] or empty (none:
  // autograd functions take no undefined inputs).
  // Returns {CE sum [], expected embeddings [M, Hc] ([M, 0] without a matrix)}.
  static variable_list forward(AutogradContext* ctx, const torch::Tensor& h, const torch::Tensor& w,
                               const torch::Tensor& target, const torch::Tensor& scale,
                               const torch::Tensor& embed_matrix, int64_t chunk, double temperature,
                               bool embeddings_differentiable) {
    torch::NoGradGuard no_grad;
    const bool embed = embed_matrix.numel() > 0, deferred = embed && embeddings_differentiable;
    // needs_input_grad is not usable here when grad mode is off (the node has no edges then); the
    // caller detaches the inputs in that case.
    const bool want_h = h.requires_grad(), want_w = w.requires_grad();
    const bool grads_now = !deferred && (want_h || want_w);
    const auto dtype = compute_dtype(h), acc = softmax_dtype(dtype);
    const auto hq = h.to(dtype), wq = w.to(dtype);  // explicit, so autocast has nothing left to cast
    const auto mq = embed ? embed_matrix.to(dtype) : torch::Tensor();
    const int64_t M = h.size(0);
    auto total = torch::zeros({}, h.options().dtype(acc));
    auto embeds = torch::empty({M, embed ? embed_matrix.size(1) : 0}, h.options().dtype(dtype));  // [M, Hc]
    auto grad_h = grads_now && want_h ? torch::empty_like(h) : torch::Tensor();                     // [M, H]
    auto grad_w = grads_now && want_w ? torch::zeros(w.sizes(), w.options().dtype(acc)) : torch::Tensor();
    for (int64_t start = 0; start < M; start += chunk) {
      const int64_t n = std::min(chunk, M - start);
      auto hc = hq.narrow(0, start, n);
      auto logits = hc.mm(wq.t()).to(acc);                         // [n, V]
      auto t = target.narrow(0, start, n), sc = scale.narrow(0, start, n).to(acc);
      auto lse = logits.logsumexp(/*dim=*/1, /*keepdim=*/true);    // [n, 1]
      total += ((lse - logits.gather(/*dim=*/1, t)).squeeze(1) * sc).sum();
      if (embed) embeds.narrow(0, start, n).copy_(tempered_softmax(logits, lse, temperature).to(dtype).mm(mq));
      if (grads_now)
        add_chunk_grads(ce_logit_grad_(logits, lse, t, sc), hc, wq,
                        grad_h.defined() ? grad_h.narrow(0, start, n) : torch::Tensor(), grad_w);
    }
    ctx->set_materialize_grads(false);  // an output that reaches no loss gets no all-zero gradient
    ctx->saved_data["deferred"] = deferred;
    ctx->saved_data["chunk"] = chunk;
    ctx->saved_data["temperature"] = temperature;
    ctx->saved_data["dtype"] = static_cast<int64_t>(dtype);  // the backward runs outside autocast
    if (deferred) {
      ctx->save_for_backward({h, w, target, scale, embed_matrix});
    } else {
      ctx->save_for_backward({grad_h, grad_w});
      ctx->mark_non_differentiable({embeds});
    }
    return {total, embeds};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto& g_ce = grad_outputs[0];  // [] the upstream scalar; undefined if the CE reached no loss
    if (!ctx->saved_data["deferred"].toBool()) {
      auto scaled = [&](const torch::Tensor& t) {
        return t.defined() && g_ce.defined() ? t * g_ce.to(t.scalar_type()) : torch::Tensor();
      };
      return {scaled(saved[0]), scaled(saved[1]), {}, {}, {}, {}, {}, {}};
    }
    const auto& h = saved[0], &w = saved[1], &target = saved[2], &scale = saved[3], &matrix = saved[4];
    const auto& g_e = grad_outputs[1];  // [M, Hc]
    const int64_t chunk = ctx->saved_data["chunk"].toInt(), M = h.size(0);
    const double temperature = ctx->saved_data["temperature"].toDouble();
    const auto dtype = static_cast<torch::ScalarType>(ctx->saved_data["dtype"].toInt()), acc = softmax_dtype(dtype);
    const auto hq = h.to(dtype), wq = w.to(dtype), mq = matrix.to(dtype);
    auto grad_h = ctx->needs_input_grad(0) ? torch::empty_like(h) : torch::Tensor();
    auto grad_w = ctx->needs_input_grad(1) ? torch::zeros(w.sizes(), w.options().dtype(acc)) : torch::Tensor();
    const auto row_scale = g_ce.defined() ? scale.to(acc) * g_ce.to(acc) : torch::zeros_like(scale, acc);  // [M]
    for (int64_t start = 0; start < M; start += chunk) {
      const int64_t n = std::min(chunk, M - start);
      auto hc = hq.narrow(0, start, n);
      auto logits = hc.mm(wq.t()).to(acc);                       // [n, V]
      auto lse = logits.logsumexp(/*dim=*/1, /*keepdim=*/true);  // [n, 1]
      torch::Tensor penalty_term;
      if (g_e.defined()) {
        // e = p @ M with p = softmax(z / τ): dL/dz = p * (u - Σ p u) / τ where u = dL/de @ M^T.
        auto p = tempered_softmax(logits, lse, temperature);              // [n, V]
        auto u = g_e.narrow(0, start, n).to(dtype).mm(mq.t()).to(acc);   // [n, V]
        penalty_term = u.sub_((p * u).sum(/*dim=*/1, /*keepdim=*/true)).mul_(p).div_(temperature);
      }
      auto d = ce_logit_grad_(logits, lse, target.narrow(0, start, n), row_scale.narrow(0, start, n));
      if (penalty_term.defined()) d.add_(penalty_term);
      add_chunk_grads(d, hc, wq, grad_h.defined() ? grad_h.narrow(0, start, n) : torch::Tensor(), grad_w);
    }
    return {grad_h, grad_w, {}, {}, {}, {}, {}, {}};
  }
};

}  // namespace

void check_penalty_vocabulary(int64_t lm_vocab, const torch::Tensor& matrix) {
  ST_CHECK(lm_vocab == matrix.size(0), "soft penalty: language model vocabulary ({}) differs from the classifier's ({})",
           lm_vocab, matrix.size(0));
}

ChunkedLmLoss chunked_causal_lm_loss(const torch::Tensor& hidden, const torch::Tensor& weight, const torch::Tensor& labels,
                                     int64_t chunk_positions, const torch::Tensor& row_weights,
                                     const ExpectedEmbeddingsRequest* embeddings) {
  const int64_t B = hidden.size(0), T = hidden.size(1), H = hidden.size(2);
  ST_CHECK(chunk_positions > 0, "chunked loss: chunk of {} positions", chunk_positions);
  if (embeddings) check_penalty_vocabulary(weight.size(0), embeddings->matrix);
  // Position t predicts labels[t + 1]; the last position predicts nothing. Found where the labels are.
  auto target = torch::full({B, T}, kIgnoreIndex, labels.options().dtype(torch::kInt64));  // [B, T]
  target.narrow(1, 0, T - 1).copy_(labels.narrow(1, 1, T - 1));
  target = target.view({-1});
  auto scale = row_weights.defined() ? row_weights.to(labels.device(), torch::kFloat32).unsqueeze(1).expand({B, T}).reshape({-1})
                                     : torch::ones({B * T}, labels.options().dtype(torch::kFloat32));  // [B*T]
  const auto rows = target.ne(kIgnoreIndex).nonzero().view({-1});  // [M]
  const auto device = hidden.device();
  const auto rows_on_device = to_device(rows, device);
  auto h = hidden.reshape({B * T, H}).index_select(/*dim=*/0, rows_on_device);  // [M, H]
  // Without grad mode no gradient is wanted, whatever the parameters' requires_grad says.
  const auto w = torch::GradMode::is_enabled() ? weight : weight.detach();
  auto outputs = FusedLinearCrossEntropy::apply(
      h, w, to_device(target.index_select(0, rows).unsqueeze(1), device), to_device(scale.index_select(0, rows), device),
      embeddings ? embeddings->matrix : torch::empty({0}, weight.options()), chunk_positions, embeddings ? embeddings->temperature : 1.0,
      embeddings && embeddings->differentiable);
  ChunkedLmLoss out;
  out.ce = {outputs[0], torch::full({}, rows.numel(), hidden.options().dtype(torch::kInt64))};
  if (embeddings)
    out.embeddings = torch::zeros({B * T, outputs[1].size(1)}, outputs[1].options())
                         .index_copy(/*dim=*/0, rows_on_device, outputs[1])
                         .view({B, T, -1});  // [B, T, Hc]
  return out;
}

}  // namespace st
