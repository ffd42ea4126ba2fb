// models/llama_ops.cpp — composite and fused-CPU forms of RMSNorm, rotary embedding and SwiGLU.
// The fused kernels are custom autograd functions: rows are split across threads, each row is one pass,
// and the RMSNorm weight gradient is summed in fixed blocks of rows in block order, so results do not
// depend on the thread count (bit-exact resume on another machine).
#include "models/llama_ops.h"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <ATen/ops/sigmoid.h>
#include <torch/autograd.h>
#include <torch/nn/functional/activation.h>

#include <atomic>
#include <cmath>

#include "common/check.h"

namespace st {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

std::atomic<LlamaOpsMode> g_mode{LlamaOpsMode::fused};

// The inner loops are compiled for AVX-512, AVX2 and the x86-64 baseline; the loader picks the best the
// CPU has (GCC function multiversioning), so one portable binary still runs 16-wide where it can.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define ST_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define ST_SIMD_CLONES
#endif

// Fused kernels take fp32/fp64 CPU tensors of one dtype (they make their inputs contiguous themselves).
bool fusable(std::initializer_list<const torch::Tensor*> tensors) {
  if (g_mode.load() != LlamaOpsMode::fused) return false;
  const auto dtype = (*tensors.begin())->scalar_type();
  if (dtype != torch::kFloat32 && dtype != torch::kFloat64) return false;
  for (const auto* t : tensors)
    if (!t->device().is_cpu() || t->scalar_type() != dtype) return false;
  return true;
}

// ---- RMSNorm ----
constexpr int64_t kRowsPerBlock = 64;  // weight-gradient partial sums: fixed blocks, summed in order

// One row: rstd = 1 / sqrt(mean(x^2) + eps) (sum in double), y = w * (x * rstd); returns rstd.
template <typename T>
ST_SIMD_CLONES T rms_norm_row(const T* xr, const T* wp, T* yr, int64_t H, double eps) {
  double ss = 0;
#pragma omp simd reduction(+ : ss)
  for (int64_t i = 0; i < H; ++i) ss += static_cast<double>(xr[i]) * xr[i];
  const auto rs = static_cast<T>(1.0 / std::sqrt(ss / static_cast<double>(H) + eps));
#pragma omp simd
  for (int64_t i = 0; i < H; ++i) yr[i] = wp[i] * (xr[i] * rs);
  return rs;
}

template <typename T>
void rms_norm_rows(const T* xp, const T* wp, T* yp, T* rp, int64_t rows, int64_t H, double eps) {
  at::parallel_for(0, rows, /*grain_size=*/16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) rp[r] = rms_norm_row(xp + r * H, wp, yp + r * H, H, eps);
  });
}

// One row: dx = rstd * g * w - x * rstd^3 * sum(g * w * x) / H, and the row's share of the weight
// gradient g * x * rstd added to `pw`.
template <typename T>
ST_SIMD_CLONES void rms_norm_backward_row(const T* xr, const T* gr, const T* wp, T rs, T* dr, double* pw, int64_t H) {
  double dot = 0;
#pragma omp simd reduction(+ : dot)
  for (int64_t i = 0; i < H; ++i) dot += static_cast<double>(gr[i]) * wp[i] * xr[i];
  const auto k = static_cast<T>(static_cast<double>(rs) * rs * rs * dot / static_cast<double>(H));
#pragma omp simd
  for (int64_t i = 0; i < H; ++i) {
    dr[i] = rs * (gr[i] * wp[i]) - xr[i] * k;
    pw[i] += static_cast<double>(gr[i]) * (xr[i] * rs);
  }
}

// The weight gradient goes into `partial` [blocks, H], one row of partial sums per block of
// kRowsPerBlock rows.
template <typename T>
void rms_norm_backward_rows(const T* xp, const T* wp, const T* rp, const T* gp, T* dxp, double* pp, int64_t rows,
                            int64_t H) {
  const int64_t blocks = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  at::parallel_for(0, blocks, /*grain_size=*/1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b)
      for (int64_t r = b * kRowsPerBlock; r < std::min(rows, (b + 1) * kRowsPerBlock); ++r)
        rms_norm_backward_row(xp + r * H, gp + r * H, wp, rp[r], dxp + r * H, pp + b * H, H);
  });
}

class FusedRMSNorm : public torch::autograd::Function<FusedRMSNorm> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x_in, const torch::Tensor& weight, double eps) {
    const auto x = x_in.contiguous();
    const auto w = weight.contiguous();
    const int64_t H = x.size(-1), rows = x.numel() / H;
    auto y = torch::empty_like(x);
    auto rstd = torch::empty({rows}, x.options());  // [rows] 1 / sqrt(mean(x^2) + eps)
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "rms_norm_forward", [&] {
      rms_norm_rows(x.data_ptr<scalar_t>(), w.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), rstd.data_ptr<scalar_t>(),
                    rows, H, eps);
    });
    ctx->save_for_backward({x, w, rstd});
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &w = saved[1], &rstd = saved[2];
    const auto g = grad_outputs[0].contiguous();
    const int64_t H = x.size(-1), rows = x.numel() / H;
    const int64_t blocks = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
    auto dx = torch::empty_like(x);
    auto partial = torch::zeros({blocks, H}, x.options().dtype(torch::kFloat64));  // [blocks, H]
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "rms_norm_backward", [&] {
      rms_norm_backward_rows(x.data_ptr<scalar_t>(), w.data_ptr<scalar_t>(), rstd.data_ptr<scalar_t>(),
                             g.data_ptr<scalar_t>(), dx.data_ptr<scalar_t>(), partial.data_ptr<double>(), rows, H);
    });
    // The blocks' partial sums in block order, by hand: ATen's reduction order may follow the threads.
    auto dw64 = torch::zeros({H}, partial.options());
    double* dwp = dw64.data_ptr<double>();
    const double* pp = partial.data_ptr<double>();
    for (int64_t b = 0; b < blocks; ++b)
      for (int64_t i = 0; i < H; ++i) dwp[i] += pp[b * H + i];
    auto dw = dw64.to(w.scalar_type());
    return {dx.view(grad_outputs[0].sizes()), dw, torch::Tensor()};
  }
};

torch::Tensor composite_rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  const auto input_dtype = x.scalar_type();
  // At least fp32 (bf16/fp16 are upcast as in transformers); float64 stays float64 for gradient checks.
  auto h = x.to(input_dtype == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32);
  auto variance = h.pow(2).mean(/*dim=*/-1, /*keepdim=*/true);
  h = h * torch::rsqrt(variance + eps);
  return weight * h.to(input_dtype);
}

// ---- rotary embedding ----
// One row: x and y are D values of one head; c, s are that position's tables.
// y[i] = x[i] c[i] - x[i+h] s[i];  y[i+h] = x[i+h] c[i+h] + x[i] s[i+h]   (h = D/2)
// The backward is the transposed rotation: sign of the sin terms flipped and indices swapped.
template <typename T, bool kBackward>
ST_SIMD_CLONES void rotate_head(const T* x, const T* c, const T* s, T* y, int64_t half) {
#pragma omp simd
  for (int64_t i = 0; i < half; ++i) {
    if constexpr (kBackward) {
      y[i] = x[i] * c[i] + x[i + half] * s[i + half];
      y[i + half] = x[i + half] * c[i + half] - x[i] * s[i];
    } else {
      y[i] = x[i] * c[i] - x[i + half] * s[i];
      y[i + half] = x[i + half] * c[i + half] + x[i] * s[i + half];
    }
  }
}

// x rows need only be contiguous within a position (heads x D); x_b, x_t are its batch and position
// strides, so views (e.g. of a transposed tensor) are read in place. y is contiguous.
template <typename T, bool kBackward>
void rotate_rows(const T* xp, int64_t x_b, int64_t x_t, const T* cp, const T* sp, T* yp, int64_t B, int64_t Bc,
                 int64_t T_, int64_t heads, int64_t D) {
  at::parallel_for(0, B * T_, /*grain_size=*/8, [&](int64_t begin, int64_t end) {
    for (int64_t bt = begin; bt < end; ++bt) {
      const int64_t b = bt / T_, t = bt % T_;
      const T* c = cp + ((Bc == 1 ? 0 : b) * T_ + t) * D;
      const T* s = sp + ((Bc == 1 ? 0 : b) * T_ + t) * D;
      for (int64_t h = 0; h < heads; ++h)
        rotate_head<T, kBackward>(xp + b * x_b + t * x_t + h * D, c, s, yp + (bt * heads + h) * D, D / 2);
    }
  });
}

template <bool kBackward>
torch::Tensor rotate(const torch::Tensor& x_in, const torch::Tensor& cos, const torch::Tensor& sin) {
  const bool rows_packed = x_in.stride(3) == 1 && x_in.stride(2) == x_in.size(3);
  const auto x = rows_packed ? x_in : x_in.contiguous();
  auto y = torch::empty(x.sizes(), x.options());  // [B, T, heads, D] contiguous
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "rotary", [&] {
    rotate_rows<scalar_t, kBackward>(x.data_ptr<scalar_t>(), x.stride(0), x.stride(1), cos.data_ptr<scalar_t>(),
                                     sin.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(), x.size(0), cos.size(0),
                                     x.size(1), x.size(2), x.size(3));
  });
  return y;
}

class FusedRotary : public torch::autograd::Function<FusedRotary> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& cos,
                               const torch::Tensor& sin) {
    ctx->save_for_backward({cos, sin});
    return rotate</*kBackward=*/false>(x, cos, sin);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    return {rotate</*kBackward=*/true>(grad_outputs[0], saved[0], saved[1]), torch::Tensor(), torch::Tensor()};
  }
};

torch::Tensor composite_rotary(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  auto halves = x.chunk(2, /*dim=*/-1);
  auto rotated = torch::cat({-halves[1], halves[0]}, /*dim=*/-1);  // rotate_half
  return x * cos.unsqueeze(2) + rotated * sin.unsqueeze(2);        // tables [B|1, T, 1, D] over the heads
}

// ---- SwiGLU ----
// Forward: s = sigmoid(gate) by ATen's vectorized kernel, then y = gate * s * up in one pass. Backward in
// one pass: d gate = g * up * s * (1 + gate * (1 - s)), d up = g * gate * s (what silu_backward computes).
template <typename T>
ST_SIMD_CLONES void swiglu_forward_span(const T* gp, const T* up, const T* sp, T* yp, int64_t begin, int64_t end) {
#pragma omp simd
  for (int64_t i = begin; i < end; ++i) yp[i] = gp[i] * sp[i] * up[i];
}

template <typename T>
ST_SIMD_CLONES void swiglu_backward_span(const T* gp, const T* up, const T* sp, const T* go, T* dg, T* du,
                                         int64_t begin, int64_t end) {
  const T one = 1;
#pragma omp simd
  for (int64_t i = begin; i < end; ++i) {
    dg[i] = go[i] * up[i] * (sp[i] * (one + gp[i] * (one - sp[i])));
    du[i] = go[i] * (gp[i] * sp[i]);
  }
}

template <typename T>
void swiglu_forward(const T* gp, const T* up, const T* sp, T* yp, int64_t n) {
  at::parallel_for(0, n, /*grain_size=*/32768,
                   [&](int64_t begin, int64_t end) { swiglu_forward_span(gp, up, sp, yp, begin, end); });
}

template <typename T>
void swiglu_backward(const T* gp, const T* up, const T* sp, const T* go, T* dg, T* du, int64_t n) {
  at::parallel_for(0, n, /*grain_size=*/32768,
                   [&](int64_t begin, int64_t end) { swiglu_backward_span(gp, up, sp, go, dg, du, begin, end); });
}

class FusedSwiGLU : public torch::autograd::Function<FusedSwiGLU> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& gate_in, const torch::Tensor& up_in) {
    const auto gate = gate_in.contiguous(), up = up_in.contiguous();
    auto s = at::sigmoid(gate);
    auto y = torch::empty_like(gate);
    AT_DISPATCH_FLOATING_TYPES(gate.scalar_type(), "swiglu_forward", [&] {
      swiglu_forward(gate.data_ptr<scalar_t>(), up.data_ptr<scalar_t>(), s.data_ptr<scalar_t>(), y.data_ptr<scalar_t>(),
                     gate.numel());
    });
    ctx->save_for_backward({gate, up, s});
    return y;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const auto saved = ctx->get_saved_variables();
    const auto &gate = saved[0], &up = saved[1], &s = saved[2];
    const auto g = grad_outputs[0].contiguous();
    auto dgate = torch::empty_like(gate), dup = torch::empty_like(up);
    AT_DISPATCH_FLOATING_TYPES(gate.scalar_type(), "swiglu_backward", [&] {
      swiglu_backward(gate.data_ptr<scalar_t>(), up.data_ptr<scalar_t>(), s.data_ptr<scalar_t>(), g.data_ptr<scalar_t>(),
                      dgate.data_ptr<scalar_t>(), dup.data_ptr<scalar_t>(), gate.numel());
    });
    return {dgate, dup};
  }
};

}  // namespace

void set_llama_ops_mode(LlamaOpsMode mode) { g_mode.store(mode); }
LlamaOpsMode llama_ops_mode() { return g_mode.load(); }

torch::Tensor rms_norm(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  if (fusable({&x, &weight})) return FusedRMSNorm::apply(x, weight, eps);
  return composite_rms_norm(x, weight, eps);
}

torch::Tensor apply_rotary(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  ST_CHECK(x.dim() == 4 && cos.dim() == 3 && x.size(-1) % 2 == 0, "internal: rotary takes x [B, T, heads, D] and tables [B|1, T, D]");
  if (fusable({&x, &cos, &sin}) && !cos.requires_grad() && !sin.requires_grad() && cos.is_contiguous() &&
      sin.is_contiguous() && (cos.size(0) == 1 || cos.size(0) == x.size(0)))
    return FusedRotary::apply(x, cos, sin);
  return composite_rotary(x, cos, sin);
}

torch::Tensor swiglu(const torch::Tensor& gate, const torch::Tensor& up) {
  if (fusable({&gate, &up}) && gate.sizes() == up.sizes()) return FusedSwiGLU::apply(gate, up);
  return torch::nn::functional::silu(gate) * up;
}

}  // namespace st
