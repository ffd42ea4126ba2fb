// trainer/gradient_buckets.cpp — buckets, their hooks, and the order they start in.
#include "trainer/gradient_buckets.h"

#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include "common/check.h"

namespace st {
namespace {

struct ReadyHook : torch::autograd::PostAccumulateGradHook {
  ReadyHook(std::shared_ptr<GradientBuckets> buckets, size_t param) : buckets(std::move(buckets)), param(param) {}
  void operator()(const torch::autograd::Variable&) override { buckets->ready(param); }
  std::shared_ptr<GradientBuckets> buckets;
  size_t param;
};

}  // namespace

std::shared_ptr<GradientBuckets> GradientBuckets::attach(const NamedTensors& params, torch::Tensor buffer, Communicator& comm,
                                                         int64_t bucket_elements) {
  auto b = std::make_shared<GradientBuckets>();
  b->comm_ = &comm;
  b->buffer_ = std::move(buffer);
  b->bucket_of_.resize(params.size());
  std::vector<int64_t> start(params.size() + 1, 0);
  for (size_t i = 0; i < params.size(); ++i) start[i + 1] = start[i] + params[i].second.numel();
  // From the last parameter back: each bucket is a contiguous range of the buffer.
  int64_t hi = start.back(), lo = hi;
  for (size_t i = params.size(); i-- > 0;) {
    lo = start[i];
    b->bucket_of_[i] = b->ranges_.size();
    if (hi - lo >= bucket_elements || i == 0) {
      b->ranges_.emplace_back(lo, hi - lo);
      hi = lo;
    }
  }
  b->size_.assign(b->ranges_.size(), 0);
  for (size_t bucket : b->bucket_of_) b->size_[bucket] += 1;
  b->waiting_ = b->size_;
  for (size_t i = 0; i < params.size(); ++i)
    torch::autograd::impl::set_post_acc_grad_hooks(params[i].second, std::make_unique<ReadyHook>(b, i));
  return b;
}

void GradientBuckets::arm() { armed_ = true; }

void GradientBuckets::ready(size_t param) {
  if (!armed_) return;  // an earlier micro-batch's backward: the gradient is still accumulating
  waiting_[bucket_of_[param]] -= 1;
  start_full_buckets();
}

void GradientBuckets::start_full_buckets() {
  while (next_ < ranges_.size() && waiting_[next_] == 0) {
    const auto [first, elements] = ranges_[next_++];
    started_.push_back(comm_->start_all_reduce_sum(buffer_.narrow(/*dim=*/0, first, elements)));
  }
}

void GradientBuckets::finish() {
  ST_CHECK(armed_, "internal: the gradient buckets were not armed before the step's last backward");
  std::fill(waiting_.begin() + static_cast<std::ptrdiff_t>(next_), waiting_.end(), 0);
  start_full_buckets();
  for (auto& pending : started_) pending->wait();
  started_.clear();
  waiting_ = size_;
  next_ = 0;
  armed_ = false;
}

}  // namespace st
