// trainer/communicator.h — how the processes of one run talk: the seam where data-parallel training (c10d:
// NCCL on GPUs, Gloo on CPU) attaches. The step sums its gradients and its token and sequence counts over
// all processes through it, and only the primary process writes the run folder. The default is one process,
// for which every reduction is the identity and costs nothing.
#pragma once

#include <torch/types.h>

#include <vector>

namespace st {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  bool is_primary() const { return rank() == 0; }
  // Sums each tensor in place over all processes.
  virtual void all_reduce_sum(std::vector<torch::Tensor>& tensors) = 0;
};

class SingleProcess : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  void all_reduce_sum(std::vector<torch::Tensor>&) override {}
};

}  // namespace st
