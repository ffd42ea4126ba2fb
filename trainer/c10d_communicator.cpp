// trainer/c10d_communicator.cpp — the Communicator on c10d: TCPStore rendezvous, then ProcessGroupGloo or
// ProcessGroupNCCL behind c10d's Backend interface.
//
// The pip wheel ships ProcessGroupGloo.hpp but not the Gloo headers it includes; Debian's libgloo-dev supplies
// those declarations (scripts/setup). Only c10d's own exported API is called (the constructors, the device
// factories and the Backend virtuals): every Gloo or NCCL symbol that runs is the one inside libtorch_cpu or
// libtorch_cuda. NCCL is compiled only where LibTorch's CUDA half is linked (SAFETUNE_WITH_NCCL).
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include "trainer/c10d_communicator.h"

#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef SAFETUNE_WITH_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>
#include <functional>

#include "common/check.h"

namespace st {
namespace {

// How long the others wait for the primary's own work (await_primary): a day, since tokenizing a large
// dataset or evaluating a large model may take hours. A primary that exits closes the store's or the
// group's connections, which fails the waiting processes at once.
constexpr std::chrono::hours kPatience{24};

std::optional<std::string> env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
}

int env_int(const char* name, int lo, int hi) {
  const auto text = env(name);
  ST_CHECK_INPUT(text.has_value(), "environment: {} is not set; a data-parallel launch (torchrun) sets RANK, WORLD_SIZE, "
                 "MASTER_ADDR and MASTER_PORT together", name);
  size_t used = 0;
  long value = 0;
  try {
    value = std::stol(*text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  ST_CHECK_INPUT(used == text->size() && !text->empty() && value >= lo && value <= hi,
                 "environment: {}='{}' is not an integer from {} to {}", name, *text, lo, hi);
  return static_cast<int>(value);
}

// An exception's message without the C++ backtrace c10::Error appends.
std::string first_line(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10_error != nullptr ? c10_error->what_without_backtrace() : e.what();
  return text.substr(0, text.find('\n'));
}

bool is_loopback(const std::string& host) { return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1"; }

// A c10d group with the device its collectives take tensors on: host memory for Gloo, this process's GPU for NCCL.
struct ProcessGroup {
  std::string name;
  c10::intrusive_ptr<c10d::Backend> backend;
  torch::Device device;
};

// A tensor as the group takes it: itself when it already lives on the group's device, else a copy there
// (the step's counts are on the host whatever the backend; gradients on a GPU under Gloo), copied back
// once the collective is done.
class Staged {
 public:
  Staged(const torch::Tensor& tensor, torch::Device device)
      : original_(tensor), on_group_(tensor.device() == device ? tensor : tensor.to(device)) {}
  torch::Tensor& tensor() { return on_group_; }
  void copy_back() {
    if (!on_group_.is_same(original_)) original_.copy_(on_group_);
  }

 private:
  torch::Tensor original_, on_group_;
};

class C10dCommunicator : public Communicator {
 public:
  C10dCommunicator(c10::intrusive_ptr<c10d::Store> store, ProcessGroup group, const LaunchEnvironment& launch)
      : store_(std::move(store)), group_(std::move(group)), rank_(launch.rank), world_(launch.world_size), local_rank_(launch.local_rank) {}
  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  int local_rank() const override { return local_rank_; }
  std::string describe() const override { return fmt::format("{}, {} processes", group_.name, world_); }

  void all_reduce_sum(std::vector<torch::Tensor>& tensors) override {
    for (auto& t : tensors) {
      ST_CHECK(t.is_contiguous(), "internal: all_reduce_sum needs contiguous tensors");
      start_all_reduce_sum(t)->wait();
    }
  }

  std::unique_ptr<Pending> start_all_reduce_sum(const torch::Tensor& tensor) override {
    struct C10dPending : Pending {
      C10dPending(C10dCommunicator& comm, Staged staged) : comm(comm), staged(std::move(staged)) {}
      void wait() override {
        comm.finish("all-reduce", work);
        staged.copy_back();
      }
      C10dCommunicator& comm;
      Staged staged;
      c10::intrusive_ptr<c10d::Work> work;
    };
    auto pending = std::make_unique<C10dPending>(*this, Staged(tensor, group_.device));
    std::vector<torch::Tensor> one{pending->staged.tensor()};
    pending->work = launch("all-reduce", [&] { return group_.backend->allreduce(one); });
    return pending;
  }

  void all_reduce_max(torch::Tensor& tensor) override {
    Staged staged(tensor, group_.device);
    std::vector<torch::Tensor> one{staged.tensor()};
    c10d::AllreduceOptions options;
    options.reduceOp = c10d::ReduceOp::MAX;
    wait("all-reduce (max)", [&] { return group_.backend->allreduce(one, options); });
    staged.copy_back();
  }

  void reduce_scatter_sum(const torch::Tensor& flat, torch::Tensor& out) override {
    Staged input(flat.contiguous(), group_.device), output(out, group_.device);
    wait("reduce-scatter", [&] { return group_.backend->_reduce_scatter_base(output.tensor(), input.tensor()); });
    output.copy_back();
  }

  void all_gather_flat(const torch::Tensor& slice, torch::Tensor& out) override {
    Staged input(slice.contiguous(), group_.device), output(out, group_.device);
    wait("all-gather", [&] { return group_.backend->_allgather_base(output.tensor(), input.tensor()); });
    output.copy_back();
  }

  std::string await_primary(const std::string& text) override {
    const std::string key = fmt::format("primary/{}", awaited_++);  // every process makes the same calls in order
    if (is_primary()) {
      store_->set(key, std::vector<uint8_t>(text.begin(), text.end()));
      return text;
    }
    const auto started = std::chrono::steady_clock::now();
    std::vector<uint8_t> value;
    try {
      store_->wait({key}, kPatience);
      value = store_->get(key);
    } catch (const std::exception& e) {
      failed("wait for rank 0", first_line(e));
    }
    busy_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return std::string(value.begin(), value.end());
  }

  std::vector<std::string> all_gather(const std::string& text) override {
    auto sizes = gather_tensor(torch::tensor({static_cast<int64_t>(text.size())}, torch::kInt64));  // [W] of [1]
    int64_t longest = 1;
    for (const auto& s : sizes) longest = std::max(longest, s.item<int64_t>());
    auto padded = torch::zeros({longest}, torch::kUInt8);
    if (!text.empty()) padded.narrow(0, 0, static_cast<int64_t>(text.size())).copy_(bytes_of(text));
    const auto gathered = gather_tensor(padded);
    std::vector<std::string> out;
    for (int r = 0; r < world_; ++r)
      out.emplace_back(reinterpret_cast<const char*>(gathered[r].data_ptr<uint8_t>()), static_cast<size_t>(sizes[r].item<int64_t>()));
    return out;
  }

  void barrier() override {
    c10d::BarrierOptions options;
    if (group_.device.is_cuda()) options.device_ids = {group_.device.index()};  // NCCL's barrier runs on this GPU
    wait("barrier", [&] { return group_.backend->barrier(options); });
  }

 private:
  static torch::Tensor bytes_of(const std::string& text) {
    return torch::from_blob(const_cast<char*>(text.data()), {static_cast<int64_t>(text.size())}, torch::kUInt8).clone();
  }

  // Every process's `local` (on the host), in rank order, on the host.
  std::vector<torch::Tensor> gather_tensor(const torch::Tensor& local) {
    std::vector<torch::Tensor> inputs{local.to(group_.device)};
    std::vector<std::vector<torch::Tensor>> outputs(1);
    for (int r = 0; r < world_; ++r) outputs[0].push_back(torch::empty_like(inputs[0]));
    wait("all-gather", [&] { return group_.backend->allgather(outputs, inputs); });
    for (auto& t : outputs[0]) t = t.cpu();
    return outputs[0];
  }

  // Runs one collective to completion; a failure (a peer that died, a timeout) names this process.
  void wait(const char* what, const std::function<c10::intrusive_ptr<c10d::Work>()>& start) { finish(what, launch(what, start)); }
  c10::intrusive_ptr<c10d::Work> launch(const char* what, const std::function<c10::intrusive_ptr<c10d::Work>()>& start) {
    try {
      return start();
    } catch (const std::exception& e) {
      failed(what, first_line(e));
    }
  }
  void finish(const char* what, const c10::intrusive_ptr<c10d::Work>& work) {
    const auto started = std::chrono::steady_clock::now();
    try {
      work->wait();
    } catch (const std::exception& e) {
      failed(what, first_line(e));
    }
    busy_s_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  }
  [[noreturn]] void failed(const char* what, const std::string& why) const {
    fail_runtime("data-parallel {} failed on rank {} of {}: {}; another process probably exited or stalled "
                 "(collectives give up after train.distributed_timeout_s)", what, rank_, world_, why);
  }

  c10::intrusive_ptr<c10d::Store> store_;
  ProcessGroup group_;
  int rank_, world_, local_rank_;
  int64_t awaited_ = 0;
};

// The network device Gloo listens on: a loopback master keeps everything on loopback; GLOO_SOCKET_IFNAME
// names an interface, as for PyTorch; otherwise the address this host's name resolves to.
std::shared_ptr<::gloo::transport::Device> gloo_device(const LaunchEnvironment& launch) {
  if (const auto iface = env("GLOO_SOCKET_IFNAME")) return c10d::ProcessGroupGloo::createDeviceForInterface(*iface);
  if (is_loopback(launch.master_addr)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

ProcessGroup gloo_group(const c10::intrusive_ptr<c10d::Store>& store, const LaunchEnvironment& launch, std::chrono::seconds timeout) {
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  options->devices.push_back(gloo_device(launch));
  return {"gloo", c10::make_intrusive<c10d::ProcessGroupGloo>(store, launch.rank, launch.world_size, options), torch::kCPU};
}

#ifdef SAFETUNE_WITH_NCCL
// One GPU per process (LOCAL_RANK's, the device the run trains on); NCCL's own watchdog ends a collective
// that outlives `timeout`.
ProcessGroup nccl_group(const c10::intrusive_ptr<c10d::Store>& store, const LaunchEnvironment& launch,
                        std::chrono::seconds timeout, torch::Device device) {
  c10::cuda::set_device(device.index());
  auto options = c10d::ProcessGroupNCCL::Options::create();
  options->timeout = timeout;
  return {"nccl", c10::make_intrusive<c10d::ProcessGroupNCCL>(store, launch.rank, launch.world_size, options), device};
}
#endif

}  // namespace

std::string LaunchEnvironment::describe() const {
  return fmt::format("rank {} of {} (local {} of {}), store {}:{}{}", rank, world_size, local_rank, local_world_size,
                     master_addr, master_port, agent_store ? " (torchrun's agent)" : "");
}

std::optional<LaunchEnvironment> launch_environment() {
  if (!env("WORLD_SIZE")) return std::nullopt;
  LaunchEnvironment e;
  e.world_size = env_int("WORLD_SIZE", 1, 1 << 20);
  e.rank = env_int("RANK", 0, e.world_size - 1);
  e.local_world_size = env("LOCAL_WORLD_SIZE") ? env_int("LOCAL_WORLD_SIZE", 1, e.world_size) : e.world_size;
  e.local_rank = env("LOCAL_RANK") ? env_int("LOCAL_RANK", 0, e.local_world_size - 1) : e.rank % e.local_world_size;
  if (e.world_size == 1) return e;
  e.master_addr = env("MASTER_ADDR").value_or("");
  ST_CHECK_INPUT(!e.master_addr.empty(), "environment: MASTER_ADDR is not set; WORLD_SIZE={} needs the address of "
                 "the rendezvous store", e.world_size);
  e.master_port = env_int("MASTER_PORT", 1, 65535);
  e.agent_store = env("TORCHELASTIC_USE_AGENT_STORE").value_or("") == "True";
  return e;
}

DistributedBackend resolve_backend(DistributedBackend wanted, torch::Device device) {
  if (wanted == DistributedBackend::Auto) wanted = device.is_cuda() ? DistributedBackend::Nccl : DistributedBackend::Gloo;
  ST_CHECK_INPUT(wanted != DistributedBackend::Nccl || device.is_cuda(), "train.distributed_backend is 'nccl' but this "
                 "process trains on the CPU (model.device); NCCL connects GPUs: use gloo, or train on CUDA");
#ifndef SAFETUNE_WITH_NCCL
  ST_CHECK_INPUT(wanted != DistributedBackend::Nccl, "train.distributed_backend is 'nccl' but this safetune was built "
                 "without LibTorch's CUDA libraries: rebuild after ./scripts/setup --full, or use gloo");
#endif
  return wanted;
}

std::unique_ptr<Communicator> connect_processes(const LaunchEnvironment& launch, std::chrono::seconds timeout,
                                                DistributedBackend backend, torch::Device device) {
  [[maybe_unused]] const bool nccl = resolve_backend(backend, device) == DistributedBackend::Nccl;
  if (launch.world_size == 1) return std::make_unique<SingleProcess>();
  c10d::TCPStoreOptions options;
  options.port = static_cast<uint16_t>(launch.master_port);
  options.isServer = launch.rank == 0 && !launch.agent_store;
  options.numWorkers = static_cast<size_t>(launch.world_size);
  options.timeout = timeout;
  c10::intrusive_ptr<c10d::Store> store;
  try {
    store = c10::make_intrusive<c10d::PrefixStore>("safetune", c10::make_intrusive<c10d::TCPStore>(launch.master_addr, options));
  } catch (const std::exception& e) {
    fail_input("data-parallel rendezvous: rank {} could not {} the store at MASTER_ADDR={} MASTER_PORT={} within {} s: {}",
               launch.rank, options.isServer ? "start" : "reach", launch.master_addr, launch.master_port, timeout.count(),
               first_line(e));
  }
  try {
#ifdef SAFETUNE_WITH_NCCL
    auto group = nccl ? nccl_group(store, launch, timeout, device) : gloo_group(store, launch, timeout);
#else
    auto group = gloo_group(store, launch, timeout);  // resolve_backend refused NCCL
#endif
    return std::make_unique<C10dCommunicator>(store, std::move(group), launch);
  } catch (const std::exception& e) {
    fail_runtime("data-parallel rendezvous: rank {} of {} could not connect to the other processes within {} s: {}",
                 launch.rank, launch.world_size, timeout.count(), first_line(e));
  }
}

}  // namespace st
