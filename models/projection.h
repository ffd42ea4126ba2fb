// models/projection.h — a decoder layer's linear projection (q/k/v/o, gate/up/down) with an optional LoRA
// branch, named as PEFT names it: <module>.weight, <module>.bias, <module>.lora_A.weight, <module>.lora_B.weight.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <string>
#include <vector>

namespace st {

// The projection names LoRA may adapt, in the order a decoder layer registers them.
const std::vector<std::string>& projection_names();

class ProjectionImpl : public torch::nn::Module {
 public:
  ProjectionImpl(int64_t in_features, int64_t out_features, bool bias);
  // x [..., in] -> [..., out]: x·Wᵀ + b, plus scale · B·A·dropout(x) when an adapter is attached.
  torch::Tensor forward(const torch::Tensor& x);

  // Adds lora_A [r, in] and lora_B [out, r] (zeros; the caller initialises them). Dropout applies only
  // in training mode, drawn from the default generator of the input's device.
  void attach_lora(int64_t r, double scale, double dropout);
  bool has_lora() const { return !lora_A.is_empty(); }
  double lora_scale() const { return lora_scale_; }

  int64_t in_features() const { return weight.size(1); }
  int64_t out_features() const { return weight.size(0); }

  torch::Tensor weight, bias;  // [out, in], [out] or undefined
  torch::nn::Linear lora_A{nullptr}, lora_B{nullptr};

 private:
  double lora_scale_ = 0, lora_dropout_ = 0;
};
TORCH_MODULE(Projection);

}  // namespace st
