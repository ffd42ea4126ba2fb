// common/device_copy.h — host-to-device copies that do not stall the GPU. A plain copy from pageable
// memory makes PyTorch wait for everything queued on the stream (the GPU then idles while the host
// queues the next kernels); a copy from pinned memory is queued like a kernel.
#pragma once

#include <torch/types.h>

namespace st {

// `t` on `device`: CPU to CUDA through pinned memory, without a stream sync; otherwise a plain `to`.
// The caching host allocator keeps the pinned buffer until the copy has run.
inline torch::Tensor to_device(const torch::Tensor& t, const torch::Device& device) {
  if (!device.is_cuda() || !t.device().is_cpu()) return t.to(device);
  return t.pin_memory().to(device, /*non_blocking=*/true);
}

}  // namespace st
