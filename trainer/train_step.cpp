// trainer/train_step.cpp — forward/backward/clip/update for one step.
#include "trainer/train_step.h"

#include <ATen/autocast_mode.h>
#include <ATen/ops/linalg_vector_norm.h>

#include <cmath>

#include "losses/causal_lm_loss.h"

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
  // 1. tokens of the whole step, so each micro-batch's CE sum is divided by the same number and the
  //    accumulated gradient equals that of one big batch
  for (const auto& b : micro_batches) r.tokens += b.loss_tokens();
  const double denom = static_cast<double>(std::max<int64_t>(1, r.tokens));

  // 2. forward, loss, backward per micro-batch
  double ce_sum = 0;
  for (const auto& b : micro_batches) {
    torch::Tensor loss;
    {
      AutocastScope autocast(device);
      auto logits = model(b.input_ids.to(device));  // [B, T, V]
      loss = causal_lm_loss(logits, b.labels.to(device)).sum;
    }
    ce_sum += loss.item<double>();
    (loss / denom).backward();
  }
  r.ce = ce_sum / denom;
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
