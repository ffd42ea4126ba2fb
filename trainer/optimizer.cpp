// trainer/optimizer.cpp — AdamW update, gradient clipping and the LR schedule.
#include "trainer/optimizer.h"

#include <ATen/ops/_foreach_mul.h>
#include <ATen/ops/_foreach_norm.h>
#include <ATen/ops/_fused_adamw.h>
#include <ATen/ops/linalg_vector_norm.h>

#include <cmath>

#include "common/check.h"

namespace st {
namespace {
// Elements per bucket of the flat gradient buffer (32 MB of fp32): large enough that a collective's latency
// does not count, small enough that the first buckets start early in the backward.
constexpr int64_t kReduceChunk = 8 << 20;
}  // namespace

AdamW::AdamW(NamedTensors params, AdamWOptions options) : params_(std::move(params)), options_(options) {
  for (const auto& [_, p] : params_) {
    exp_avg_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
    exp_avg_sq_.push_back(torch::zeros_like(p, torch::MemoryFormat::Preserve));
  }
  // One step count for every parameter (the fused kernel takes a list, and only reads it).
  if (!params_.empty()) step_count_ = torch::zeros({}, params_.front().second.options().dtype(torch::kFloat32));
}

void AdamW::distribute(Communicator& comm, bool shard) {
  if (comm.world_size() == 1 || params_.empty()) return;
  const auto options = params_.front().second.options();
  for (const auto& [name, p] : params_)
    ST_CHECK(p.dtype() == options.dtype() && p.device() == options.device() && p.is_contiguous(),
             "data-parallel training: every trained tensor must be contiguous and share one dtype and device; {} is not",
             name);
  comm_ = &comm;
  shard_ = FlatShard::of(params_, comm.rank(), comm.world_size());
  grad_buffer_ = torch::zeros({shard_.per_rank * comm.world_size()}, options);
  // Autograd accumulates into a gradient that exists, in place: the backward writes the buffer directly.
  int64_t start = 0;
  for (auto& [_, p] : params_) {
    p.mutable_grad() = grad_buffer_.narrow(/*dim=*/0, start, p.numel()).view(p.sizes());
    start += p.numel();
  }
  if (!shard) {
    buckets_ = GradientBuckets::attach(params_, grad_buffer_, comm, kReduceChunk);
    return;
  }
  sharded_ = true;
  slice_grad_ = torch::zeros({shard_.per_rank}, options);
  exp_avg_.clear();
  exp_avg_sq_.clear();
  for (const auto& segment : shard_.segments) {
    exp_avg_.push_back(torch::zeros({segment.length}, options));
    exp_avg_sq_.push_back(torch::zeros({segment.length}, options));
  }
}

void AdamW::arm_reduction() {
  if (buckets_) buckets_->arm();
}

torch::Tensor AdamW::reduce_and_clip(double max_norm) {
  torch::NoGradGuard no_grad;
  if (comm_ == nullptr) return clip_gradients(params_, max_norm);
  if (!sharded_) {
    buckets_->finish();
    return clip_gradients(params_, max_norm);
  }
  comm_->reduce_scatter_sum(grad_buffer_, slice_grad_);  // [per_rank]
  // The global norm from every slice's sum of squares (the padding is zero).
  std::vector<torch::Tensor> squares{slice_grad_.to(torch::kFloat64).square().sum().reshape({1})};  // [1]
  comm_->all_reduce_sum(squares);
  auto total = squares[0].sqrt().reshape({}).to(slice_grad_.scalar_type());  // []
  if (max_norm > 0) slice_grad_.mul_(torch::clamp(max_norm / (total + 1e-6), /*min=*/std::nullopt, /*max=*/1.0));
  return total;
}

int64_t AdamW::state_bytes() const {
  int64_t bytes = 0;
  for (const auto* moments : {&exp_avg_, &exp_avg_sq_})
    for (const auto& t : *moments) bytes += t.numel() * static_cast<int64_t>(t.element_size());
  return bytes;
}

void AdamW::zero_grad() {
  if (grad_buffer_.defined()) {  // the gradients stay views into the buffer
    grad_buffer_.zero_();
    return;
  }
  for (auto& [_, p] : params_)
    if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
}

void AdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  steps_ += 1;
  if (step_count_.defined()) step_count_.fill_(static_cast<double>(steps_));  // the bias corrections read it
  const auto units = update_units();
  // Two fused calls (matrices with weight decay, norms and biases without), each one multi-tensor kernel
  // on CPU and CUDA: param, grad and both moments read and written once instead of ~8 ATen passes.
  for (const bool decayed : {true, false}) {
    std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs, steps;
    for (const auto& u : units) {
      if (u.decayed != decayed) continue;
      params.push_back(u.param);
      grads.push_back(u.grad);
      exp_avgs.push_back(exp_avg_[u.moments]);
      exp_avg_sqs.push_back(exp_avg_sq_[u.moments]);
      steps.push_back(step_count_);
    }
    if (params.empty()) continue;
    at::_fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, /*max_exp_avg_sqs=*/{}, steps, lr, options_.beta1,
                      options_.beta2, decayed ? options_.weight_decay : 0.0, options_.eps, /*amsgrad=*/false,
                      /*maximize=*/false);
  }
  if (sharded_) gather_weights();
}

// What one update touches: every parameter with a gradient, or, sharded, this process's segments (views
// into the parameters, so the update lands in place) with their slice of the summed gradient.
std::vector<AdamW::UpdateUnit> AdamW::update_units() const {
  std::vector<UpdateUnit> units;
  if (!sharded_) {
    for (size_t i = 0; i < params_.size(); ++i) {
      const auto& p = params_[i].second;
      if (p.grad().defined()) units.push_back({p, p.grad(), i, p.dim() >= 2});
    }
    return units;
  }
  for (size_t k = 0; k < shard_.segments.size(); ++k) {
    const auto& segment = shard_.segments[k];
    const auto& p = params_[segment.param].second;
    units.push_back({FlatShard::view(p, segment), slice_grad_.narrow(/*dim=*/0, segment.slice_offset, segment.length), k,
                     p.dim() >= 2});
  }
  return units;
}

// Every process's updated slice into every parameter. The spent gradient buffers carry the weights: this
// process's slice out, every slice back in (zero_grad clears the buffer before the next backward).
void AdamW::gather_weights() {
  std::vector<torch::Tensor> mine(shard_.segments.size()), all;
  for (size_t k = 0; k < mine.size(); ++k) mine[k] = FlatShard::view(params_[shard_.segments[k].param].second, shard_.segments[k]);
  for (auto& [_, p] : params_) all.push_back(p);
  fill_slice(mine, slice_grad_);
  comm_->all_gather_flat(slice_grad_, grad_buffer_);
  shard_.unflatten_into(grad_buffer_, all);
}

// This process's slice [per_rank] from its segments' tensors (zero where the last slice is padded).
void AdamW::fill_slice(const std::vector<torch::Tensor>& segments, torch::Tensor& slice) const {
  slice.zero_();
  for (size_t k = 0; k < segments.size(); ++k)
    slice.narrow(/*dim=*/0, shard_.segments[k].slice_offset, shard_.segments[k].length).copy_(segments[k]);
}

NamedTensors AdamW::state() const {
  if (sharded_) {
    std::vector<torch::Tensor> avg, avg_sq;
    for (auto [mine, full] : {std::pair{&exp_avg_, &avg}, std::pair{&exp_avg_sq_, &avg_sq}}) {
      auto slice = torch::empty_like(slice_grad_), all = torch::empty_like(grad_buffer_);  // [per_rank], [world × per_rank]
      fill_slice(*mine, slice);
      comm_->all_gather_flat(slice, all);
      for (const auto& [_, p] : params_) full->push_back(torch::empty_like(p));
      shard_.unflatten_into(all, *full);
    }
    NamedTensors out;
    for (size_t i = 0; i < params_.size(); ++i) {
      out.emplace_back("exp_avg." + params_[i].first, avg[i]);
      out.emplace_back("exp_avg_sq." + params_[i].first, avg_sq[i]);
    }
    return out;
  }
  NamedTensors out;
  for (size_t i = 0; i < params_.size(); ++i) {
    out.emplace_back("exp_avg." + params_[i].first, exp_avg_[i]);
    out.emplace_back("exp_avg_sq." + params_[i].first, exp_avg_sq_[i]);
  }
  return out;
}

void AdamW::load_state(const TensorStore& store, int64_t steps, const std::string& label) {
  torch::NoGradGuard no_grad;
  auto moment = [&](const char* prefix, size_t i) {
    const std::string name = prefix + params_[i].first;
    ST_CHECK_INPUT(store.contains(name), "{}: optimizer state has no tensor '{}'", label, name);
    auto t = store.tensor(name);
    const auto& p = params_[i].second;
    ST_CHECK_INPUT(t.sizes() == p.sizes() && t.scalar_type() == p.scalar_type(),
                   "{}: optimizer tensor '{}' does not match the model", label, name);
    return t;
  };
  if (sharded_) {  // a whole-model file, whoever wrote it: this process keeps its slice
    for (size_t k = 0; k < shard_.segments.size(); ++k) {
      const auto& segment = shard_.segments[k];
      exp_avg_[k].copy_(FlatShard::view(moment("exp_avg.", segment.param), segment));
      exp_avg_sq_[k].copy_(FlatShard::view(moment("exp_avg_sq.", segment.param), segment));
    }
  } else {
    for (size_t i = 0; i < params_.size(); ++i) {
      exp_avg_[i].copy_(moment("exp_avg.", i));
      exp_avg_sq_[i].copy_(moment("exp_avg_sq.", i));
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
