// models/projection.cpp — the projection's forward with and without its LoRA branch, as PEFT's lora.Linear computes it.
#include "models/projection.h"

#include <ATen/autocast_mode.h>

#include <torch/nn/functional/dropout.h>
#include <torch/nn/functional/linear.h>
#include <torch/nn/init.h>

namespace st {
namespace F = torch::nn::functional;

const std::vector<std::string>& projection_names() {
  static const std::vector<std::string> names = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  return names;
}

ProjectionImpl::ProjectionImpl(int64_t in_features, int64_t out_features, bool bias) {
  // torch.nn.Linear's own initialisation, so a model built from a config alone starts as LibTorch's Linear did.
  weight = register_parameter("weight", torch::empty({out_features, in_features}));
  torch::nn::init::kaiming_uniform_(weight, /*a=*/std::sqrt(5.0));
  if (bias) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features));
    this->bias = register_parameter("bias", torch::empty({out_features}).uniform_(-bound, bound));
  }
}

void ProjectionImpl::attach_lora(int64_t r, double scale, double dropout) {
  const auto options = weight.options().dtype(torch::kFloat32);
  lora_A = register_module("lora_A", torch::nn::Linear(torch::nn::LinearOptions(in_features(), r).bias(false)));
  lora_B = register_module("lora_B", torch::nn::Linear(torch::nn::LinearOptions(r, out_features()).bias(false)));
  torch::NoGradGuard no_grad;
  lora_A->weight.set_data(torch::zeros({r, in_features()}, options));
  lora_B->weight.set_data(torch::zeros({out_features(), r}, options));
  lora_scale_ = scale;
  lora_dropout_ = dropout;
}

torch::Tensor ProjectionImpl::forward(const torch::Tensor& x) {
  auto y = F::linear(x, weight, bias);  // [..., out]
  if (!lora_A) return y;
  // Without autocast the adapter computes in its own dtype (fp32) over a bf16 base and adds back in the
  // base's dtype; under autocast (CUDA) the matmuls run in bf16 anyway, and a cast would only keep a copy.
  const bool cast = x.scalar_type() != lora_A->weight.scalar_type() && !at::autocast::is_autocast_enabled(x.device().type());
  auto h = cast ? x.to(lora_A->weight.scalar_type()) : x;
  if (lora_dropout_ > 0 && is_training()) h = torch::dropout(h, lora_dropout_, /*train=*/true);
  auto delta = lora_B(lora_A(h)) * lora_scale_;  // [..., r] -> [..., out]
  return y + (delta.scalar_type() == y.scalar_type() ? delta : delta.to(y.scalar_type()));
}

}  // namespace st
