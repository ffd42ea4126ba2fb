// trainer/gradient_buckets.h — a data-parallel step's gradient reduction, overlapped with its backward. The
// flat gradient buffer is cut into buckets of whole parameters, last parameters first (the order in which
// the backward finishes them); a hook on each parameter counts its bucket down when the step's last
// backward has accumulated into it, and full buckets start their all-reduce in bucket order, so every
// process starts the same collectives in the same order whatever the hooks' timing.
#pragma once

#include <torch/types.h>

#include <memory>
#include <utility>
#include <vector>

#include "models/safetensors.h"
#include "trainer/communicator.h"

namespace st {

class GradientBuckets {
 public:
  // `buffer` holds the gradients of `params` end to end, in order; buckets hold about `bucket_elements`.
  static std::shared_ptr<GradientBuckets> attach(const NamedTensors& params, torch::Tensor buffer, Communicator& comm,
                                                 int64_t bucket_elements);
  // The next backward is the step's last: its hooks start the reduction.
  void arm();
  // Starts the buckets the hooks did not (parameters without a gradient this step) and waits for all.
  void finish();
  // A hook's call: parameter `param` has its final gradient for the step.
  void ready(size_t param);

 private:
  void start_full_buckets();

  Communicator* comm_ = nullptr;
  torch::Tensor buffer_;
  std::vector<std::pair<int64_t, int64_t>> ranges_;  // per bucket: first element, elements
  std::vector<size_t> bucket_of_;                    // per parameter
  std::vector<int64_t> size_, waiting_;              // per bucket: parameters, of which not yet ready
  size_t next_ = 0;                                  // the next bucket to start
  bool armed_ = false;
  std::vector<std::unique_ptr<Communicator::Pending>> started_;
};

}  // namespace st
