// models/llama_ops.h — the Llama block's memory-bound ops (RMSNorm, rotary embedding, SwiGLU) in two forms:
// the composite ATen form, op for op as transformers writes it (any device, any dtype), and fused CPU
// kernels that read and write each tensor once per direction instead of 5-10 ATen passes with temporaries.
#pragma once

#include <torch/types.h>

namespace st {

// Which form the public functions use. `fused` only takes effect for fp32/fp64 CPU tensors; anything
// else runs the composite form. Tests and benchmarks switch it; training keeps the default.
enum class LlamaOpsMode { fused, composite };
void set_llama_ops_mode(LlamaOpsMode mode);
LlamaOpsMode llama_ops_mode();

// x [.., H] -> weight * (x * rsqrt(mean(x^2) + eps)), statistics in at least fp32; the product is cast to
// x's dtype before the weight multiplies it (transformers' LlamaRMSNorm).
torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps);

// x [B, T, heads, D]; cos, sin [B or 1, T, D] (no gradient) -> x * cos + rotate_half(x) * sin, where
// rotate_half(x) = (-x[D/2:], x[:D/2]).
torch::Tensor apply_rotary(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin);

// silu(gate) * up, same shapes.
torch::Tensor swiglu(const torch::Tensor& gate, const torch::Tensor& up);

}  // namespace st
