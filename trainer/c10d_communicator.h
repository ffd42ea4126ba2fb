// trainer/c10d_communicator.h — data-parallel processes on LibTorch's c10d: the environment a launcher such as
// torchrun sets, the rendezvous through c10d's TCPStore, and a Communicator on a c10d process group (NCCL
// between GPUs, Gloo on CPU).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "trainer/communicator.h"
#include "trainer/run_config.h"

namespace st {

// What torchrun (or any launcher that sets the same variables) tells each process.
struct LaunchEnvironment {
  int rank = 0, world_size = 1, local_rank = 0, local_world_size = 1;
  std::string master_addr;
  int master_port = 0;
  bool agent_store = false;  // TORCHELASTIC_USE_AGENT_STORE=True: torchrun's agent hosts the store
  std::string describe() const;  // "rank 1 of 2 (local 1 of 2), store 127.0.0.1:29500"
};

// The launch environment, or nullopt when WORLD_SIZE is unset (one process, as without a launcher).
// Malformed or missing variables: exit 2 naming the variable.
std::optional<LaunchEnvironment> launch_environment();

// The process group a run uses: `wanted` (train.distributed_backend) resolved against the device this process
// trains on. auto = NCCL on CUDA, Gloo on CPU; NCCL on a CPU run: exit 2.
DistributedBackend resolve_backend(DistributedBackend wanted, torch::Device device);

// Joins the run's other processes: a TCPStore (hosted by rank 0, or torchrun's agent), then the `backend`
// process group (resolved) on `device`, whose collectives fail after `timeout` instead of waiting for a dead
// or stuck rank forever. An unreachable store: exit 2 naming MASTER_ADDR and MASTER_PORT. One process needs
// no rendezvous.
std::unique_ptr<Communicator> connect_processes(const LaunchEnvironment& env, std::chrono::seconds timeout,
                                                DistributedBackend backend, torch::Device device);

}  // namespace st
