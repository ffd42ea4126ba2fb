// trainer/communicator.h — how the processes of one run talk: the seam where data-parallel training attaches
// (trainer/c10d_communicator.h: c10d's Gloo process group). The step sums its gradients and its token and
// sequence counts over all processes through it; only the primary process writes the run folder and the
// others receive what it decided (the checkpoint to resume, an evaluation's numbers). The default is one
// process, for which every operation is the identity and costs nothing.
#pragma once

#include <torch/types.h>

#include <memory>
#include <string>
#include <vector>

namespace st {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  virtual int local_rank() const = 0;  // which of this machine's GPUs the process trains on
  bool is_primary() const { return rank() == 0; }
  virtual std::string describe() const = 0;  // for the manifest and stdout: "gloo, 2 processes"
  // Sums each tensor (contiguous: a few counts or sums; the gradients go through start_all_reduce_sum) in
  // place over all processes.
  virtual void all_reduce_sum(std::vector<torch::Tensor>& tensors) = 0;
  // A collective under way; wait() completes it (and fails like the blocking ones).
  class Pending {
   public:
    virtual ~Pending() = default;
    virtual void wait() = 0;
  };
  // Starts summing `tensor` over processes in place and returns at once, so the reduction of gradients
  // that are ready overlaps the backward that computes the rest. Every process starts the same ones in
  // the same order.
  virtual std::unique_ptr<Pending> start_all_reduce_sum(const torch::Tensor& tensor) = 0;
  // The elementwise maximum, in place.
  virtual void all_reduce_max(torch::Tensor& tensor) = 0;
  // `flat` [world × n] summed over processes; `out` [n] receives this process's part of the sum (ZeRO-1 gradients).
  virtual void reduce_scatter_sum(const torch::Tensor& flat, torch::Tensor& out) = 0;
  // Every process's `slice` [n] into `out` [world × n], in rank order (ZeRO-1 weights).
  virtual void all_gather_flat(const torch::Tensor& slice, torch::Tensor& out) = 0;
  // The primary process's `text`, on every process, once the primary has it: for the result of work only the
  // primary does and that may take long (reading the data, an evaluation, writing a checkpoint), so the
  // others wait without the collective timeout. A primary that dies still fails them at once.
  virtual std::string await_primary(const std::string& text) = 0;
  // Every process's `text`, in rank order.
  virtual std::vector<std::string> all_gather(const std::string& text) = 0;
  virtual void barrier() = 0;
  // Seconds this process has spent in collectives, waiting for the others included.
  double busy_s() const { return busy_s_; }

 protected:
  double busy_s_ = 0;
};

class SingleProcess : public Communicator {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  int local_rank() const override { return 0; }
  std::string describe() const override { return "one process"; }
  void all_reduce_sum(std::vector<torch::Tensor>&) override {}
  void all_reduce_max(torch::Tensor&) override {}
  std::unique_ptr<Pending> start_all_reduce_sum(const torch::Tensor&) override {
    struct Done : Pending {
      void wait() override {}
    };
    return std::make_unique<Done>();
  }
  void reduce_scatter_sum(const torch::Tensor& flat, torch::Tensor& out) override { out.copy_(flat); }
  void all_gather_flat(const torch::Tensor& slice, torch::Tensor& out) override { out.copy_(slice); }
  std::string await_primary(const std::string& text) override { return text; }
  std::vector<std::string> all_gather(const std::string& text) override { return {text}; }
  void barrier() override {}
};

// True on every process when `flag` is true on any (a stop signal seen by one rank stops all after the same step).
inline bool any_process(Communicator& comm, bool flag) {
  if (comm.world_size() == 1) return flag;
  auto t = torch::tensor({flag ? 1 : 0}, torch::kInt32);
  comm.all_reduce_max(t);
  return t.item<int32_t>() != 0;
}

}  // namespace st
