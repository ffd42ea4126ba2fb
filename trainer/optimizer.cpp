// trainer/optimizer.cpp — AdamW update, gradient clipping and the LR schedule.
#include "trainer/optimizer.h"

#include <ATen/ops/_foreach_mul.h>
#include <ATen/ops/_foreach_norm.h>
#include <ATen/ops/_fused_adamw.h>
#include <ATen/ops/linalg_vector_norm.h>

#include <cmath>

#include "common/check.h"

namespace st {

AdamW::AdamW(NamedTensors params, AdamWOptions options) : params_(std::move(params)), options_(options) {
  for (const auto& [_, p] : params_) {
    exp_avg_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    exp_avg_sq_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
  }
  // One step count for every parameter (the fused kernel takes a list, and only reads it).
  if (!params_.empty()) step_count_ = torch::zeros({}, params_.front().second.options().dtype(torch::kFloat32));
}

void AdamW::zero_grad() {
  for (auto& [_, p] : params_)
    if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
}

void AdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  steps_ += 1;
  if (step_count_.defined()) step_count_.fill_(static_cast<double>(steps_));  // the bias corrections read it
  // Two fused calls (matrices with weight decay, norms and biases without), each one multi-tensor kernel
  // on CPU and CUDA: param, grad and both moments read and written once instead of ~8 ATen passes.
  for (const bool decayed : {true, false}) {
    std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs, steps;
    for (size_t i = 0; i < params_.size(); ++i) {
      const auto& p = params_[i].second;
      if (!p.grad().defined() || (p.dim() >= 2) != decayed) continue;
      params.push_back(p);
      grads.push_back(p.grad());
      exp_avgs.push_back(exp_avg_[i]);
      exp_avg_sqs.push_back(exp_avg_sq_[i]);
      steps.push_back(step_count_);
    }
    if (params.empty()) continue;
    at::_fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, /*max_exp_avg_sqs=*/{}, steps, lr, options_.beta1,
                      options_.beta2, decayed ? options_.weight_decay : 0.0, options_.eps, /*amsgrad=*/false,
                      /*maximize=*/false);
  }
}

NamedTensors AdamW::state() const {
  NamedTensors out;
  for (size_t i = 0; i < params_.size(); ++i) {
    out.emplace_back("exp_avg." + params_[i].first, exp_avg_[i]);
    out.emplace_back("exp_avg_sq." + params_[i].first, exp_avg_sq_[i]);
  }
  return out;
}

void AdamW::load_state(const TensorStore& store, int64_t steps, const std::string& label) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    for (auto* pair : {&exp_avg_, &exp_avg_sq_}) {
      const std::string name = (pair == &exp_avg_ ? "exp_avg." : "exp_avg_sq.") + params_[i].first;
      ST_CHECK_INPUT(store.contains(name), "{}: optimizer state has no tensor '{}'", label, name);
      auto t = store.tensor(name);
      ST_CHECK_INPUT(t.sizes() == (*pair)[i].sizes() && t.scalar_type() == (*pair)[i].scalar_type(),
                     "{}: optimizer tensor '{}' does not match the model", label, name);
      (*pair)[i].copy_(t);
    }
  }
  steps_ = steps;
}

double learning_rate(const ScheduleOptions& s, int64_t step) {
  if (step < s.warmup_steps) return s.peak_lr * static_cast<double>(step) / static_cast<double>(s.warmup_steps);
  if (s.type == ScheduleType::Constant) return s.peak_lr;
  const double span = static_cast<double>(std::max<int64_t>(1, s.total_steps - s.warmup_steps));
  const double progress = std::min(1.0, static_cast<double>(step - s.warmup_steps) / span);
  const double decay = s.type == ScheduleType::Cosine ? 0.5 * (1.0 + std::cos(M_PI * progress)) : 1.0 - progress;
  return s.peak_lr * (s.min_lr_ratio + (1.0 - s.min_lr_ratio) * decay);
}

torch::Tensor clip_gradients(const NamedTensors& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (const auto& [_, p] : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return torch::zeros({});
  // Per-tensor norms in one multi-tensor kernel, then their norm; the scale is applied without reading
  // the norm on the host (a non-finite norm gives a non-finite scale, and the step is skipped anyway).
  auto total = at::linalg_vector_norm(torch::stack(at::_foreach_norm(grads, /*ord=*/2)), 2);  // []
  if (max_norm > 0) {
    auto coef = torch::clamp(max_norm / (total + 1e-6), /*min=*/std::nullopt, /*max=*/1.0);
    at::_foreach_mul_(grads, coef);
  }
  return total;
}

}  // namespace st
