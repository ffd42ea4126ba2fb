// trainer/train_step.cpp — forward/backward/clip/update for one step.
#include "trainer/train_step.h"

#include <ATen/autocast_mode.h>
#include <ATen/ops/linalg_vector_norm.h>

#include <cmath>

#include "common/tokens.h"
#include "losses/causal_lm_loss.h"
#include "losses/soft_penalty.h"

namespace st {
namespace {

// bf16 autocast on CUDA (fp32 master weights and optimizer state); fp32 everywhere on CPU.
class AutocastScope {
 public:
  explicit AutocastScope(const torch::Device& device) : on_(device.is_cuda()) {
    if (!on_) return;
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
  }
  ~AutocastScope() {
    if (!on_) return;
    at::autocast::set_autocast_enabled(at::kCUDA, false);
    at::autocast::clear_cache();
  }

 private:
  bool on_;
};

torch::Device device_of(LlamaForCausalLM& model) { return model->parameters().front().device(); }

}  // namespace

StepResult train_step(LlamaForCausalLM& model, AdamW& optimizer, const std::vector<Batch>& micro_batches,
                      const StepOptions& options) {
  const auto device = device_of(model);
  StepResult r;
  // 1. tokens and response sequences of the whole step, so each micro-batch's sums are divided by the
  //    same numbers and the accumulated gradient equals that of one big batch
  int64_t sequences = 0;
  for (const auto& b : micro_batches) {
    r.tokens += b.loss_tokens();
    sequences += b.labels.narrow(1, 1, b.labels.size(1) - 1).ne(kIgnoreIndex).any(/*dim=*/1).sum().item<int64_t>();
  }
  const double denom = static_cast<double>(std::max<int64_t>(1, r.tokens));
  const double seq_denom = static_cast<double>(std::max<int64_t>(1, sequences));
  const bool penalize = options.classifier != nullptr && options.lambda > 0;

  // 2. forward, loss, backward per micro-batch
  double ce_sum = 0, penalty_sum = 0, p_sum = 0;
  for (const auto& b : micro_batches) {
    torch::Tensor loss;
    {
      AutocastScope autocast(device);
      auto labels = b.labels.to(device);
      auto logits = model(b.input_ids.to(device));  // [B, T, V]
      auto ce = causal_lm_loss(logits, labels).sum;
      ce_sum += ce.item<double>();
      loss = ce / denom;
      if (options.classifier != nullptr) {
        // With λ = 0 the penalty is only measured: no graph, so the update is exactly that of plain CE.
        torch::Tensor penalty_logits = penalize ? logits : logits.detach();
        torch::AutoGradMode grad_mode(penalize);
        const auto sp = soft_penalty(penalty_logits, labels, *options.classifier, options.temperature);
        const auto n = sp.has_response.sum().item<int64_t>();
        const auto batch_sum = sp.penalty * static_cast<double>(n);  // mean -> sum over this batch's sequences
        penalty_sum += batch_sum.item<double>();
        p_sum += sp.p_toxic.sum().item<double>();
        if (penalize) loss = loss + options.lambda * batch_sum / seq_denom;
      }
    }
    loss.backward();
  }
  r.ce = ce_sum / denom;
  r.penalized = options.classifier != nullptr ? sequences : 0;
  r.penalty = penalty_sum / seq_denom;
  r.p_toxic = p_sum / seq_denom;
  r.loss = r.ce + options.lambda * r.penalty;

  // 3. gradient norm and clipping; 4. update unless something was not finite
  r.grad_norm = clip_gradients(optimizer.params(), options.max_grad_norm);
  r.finite = std::isfinite(r.loss) && std::isfinite(r.grad_norm);
  if (r.finite) optimizer.step(options.lr);
  optimizer.zero_grad();
  return r;
}

double clip_gradients(const NamedTensors& params, double max_norm) {
  std::vector<torch::Tensor> grads, norms;
  for (const auto& [_, p] : params)
    if (p.grad().defined()) grads.push_back(p.grad()), norms.push_back(at::linalg_vector_norm(p.grad(), 2));
  auto total = norms.empty() ? torch::zeros({}) : at::linalg_vector_norm(torch::stack(norms), 2);
  const double norm = total.item<double>();
  if (max_norm > 0 && std::isfinite(norm)) {
    torch::NoGradGuard no_grad;
    auto coef = torch::clamp(max_norm / (total + 1e-6), /*min=*/std::nullopt, /*max=*/1.0);
    for (auto& g : grads) g.mul_(coef.to(g.device()));
  }
  return norm;
}

EvalResult evaluate_ce(LlamaForCausalLM& model, const std::vector<Batch>& batches) {
  torch::NoGradGuard no_grad;
  const auto device = device_of(model);
  double sum = 0;
  EvalResult r;
  for (const auto& b : batches) {
    AutocastScope autocast(device);
    auto loss = causal_lm_loss(model(b.input_ids.to(device)), b.labels.to(device));
    sum += loss.sum.item<double>();
    r.tokens += loss.count.item<int64_t>();
  }
  r.ce = r.tokens > 0 ? sum / static_cast<double>(r.tokens) : 0.0;
  return r;
}

}  // namespace st
