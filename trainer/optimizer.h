// trainer/optimizer.h — AdamW as torch.optim.AdamW(fused=True) computes it (ATen's fused multi-tensor
// kernel, on CPU and CUDA), its state exposed by parameter name for checkpoints, and the LR schedule.
// Weight decay applies to matrices only, not to norm weights and biases, as transformers' Trainer does.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/safetensors.h"
#include "trainer/communicator.h"
#include "trainer/flat_shard.h"
#include "trainer/gradient_buckets.h"
#include "trainer/run_config.h"

namespace st {

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
};

class AdamW {
 public:
  AdamW(NamedTensors params, AdamWOptions options);
  // Training in several processes: the gradients live in one flat buffer (every parameter's .grad() is a
  // view into it, as DDP's gradient_as_bucket_view), summed over processes in place. With `shard`, ZeRO
  // stage 1: this process keeps and updates only its slice of the moments (trainer/flat_shard.h), the
  // gradients are reduce-scattered and the updated weights all-gathered. Called before any step or load.
  void distribute(Communicator& comm, bool shard);
  bool sharded() const { return sharded_; }
  // The next backward is the step's last: unsharded, its gradients start their all-reduce as they are
  // ready, overlapping the rest of the backward (trainer/gradient_buckets.h).
  void arm_reduction();
  // The gradients summed over processes, their global L2 norm measured as torch.nn.utils.clip_grad_norm_
  // does and, when max_norm > 0, clipped to it. Returns the norm before clipping, on the device. Sharded,
  // only this process's slice is summed and clipped.
  torch::Tensor reduce_and_clip(double max_norm);
  // One update of every parameter with a gradient, at learning rate `lr`.
  void step(double lr);
  void zero_grad();
  int64_t steps() const { return steps_; }

  // "exp_avg.<name>" and "exp_avg_sq.<name>" for every parameter, for optimizer.safetensors. Sharded, the
  // slices are gathered: every process must call it.
  NamedTensors state() const;
  // Restores the moments from a checkpoint written by any number of processes, sharded or not.
  void load_state(const TensorStore& store, int64_t steps, const std::string& label);
  const NamedTensors& params() const { return params_; }
  int64_t state_bytes() const;  // the moments this process holds

 private:
  struct UpdateUnit {
    torch::Tensor param, grad;  // a parameter, or a segment of one (a view)
    size_t moments;             // index into exp_avg_ and exp_avg_sq_
    bool decayed;               // a matrix: weight decay applies
  };
  std::vector<UpdateUnit> update_units() const;
  void gather_weights();
  void fill_slice(const std::vector<torch::Tensor>& segments, torch::Tensor& slice) const;

  NamedTensors params_;
  // Unsharded: one tensor per parameter. Sharded: one per segment of this process's slice, and the
  // slice's summed gradient.
  std::vector<torch::Tensor> exp_avg_, exp_avg_sq_;
  Communicator* comm_ = nullptr;  // set when several processes train
  bool sharded_ = false;
  FlatShard shard_;
  torch::Tensor grad_buffer_;  // [world × per_rank]: every gradient, end to end
  std::shared_ptr<GradientBuckets> buckets_;  // unsharded: the all-reduce overlapped with the backward
  torch::Tensor slice_grad_;   // [per_rank]: this process's slice of the summed gradient (sharded)
  torch::Tensor step_count_;  // steps_ as a tensor on the parameters' device, for the fused kernel
  AdamWOptions options_;
  int64_t steps_ = 0;
};

// Total L2 norm of the gradients of `params` (as torch.nn.utils.clip_grad_norm_ measures it) and, when
// max_norm > 0, scales them to at most max_norm. Returns the norm before clipping, on the gradients'
// device (reading it is the caller's host sync).
torch::Tensor clip_gradients(const NamedTensors& params, double max_norm);

struct ScheduleOptions {
  ScheduleType type = ScheduleType::Linear;  // the decay after warmup
  double peak_lr = 5e-5;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;
  double min_lr_ratio = 0.0;
};

// LR of update number `step` (0-based), as transformers' schedulers give it: linear warmup from 0 over
// warmup_steps, then decay to min_lr_ratio·peak at total_steps.
double learning_rate(const ScheduleOptions& s, int64_t step);

}  // namespace st
