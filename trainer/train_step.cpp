// trainer/train_step.cpp — forward/backward/clip/update for one step.
#include "trainer/train_step.h"

#include <ATen/autocast_mode.h>
#include <ATen/ops/_foreach_mul.h>
#include <ATen/ops/_foreach_norm.h>
#include <ATen/ops/linalg_vector_norm.h>

#include <cmath>

#include "common/device_copy.h"
#include "common/tokens.h"
#include "losses/causal_lm_loss.h"
#include "losses/chunked_lm_loss.h"
#include "losses/soft_penalty.h"

namespace st {
namespace {

// bf16 autocast on CUDA (fp32 master weights and optimizer state); fp32 everywhere on CPU.
class AutocastScope {
 public:
  explicit AutocastScope(const torch::Device& device) : on_(device.is_cuda()) {
    if (!on_) return;
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
  }
  ~AutocastScope() {
    if (!on_) return;
    at::autocast::set_autocast_enabled(at::kCUDA, false);
    at::autocast::clear_cache();
  }

 private:
  bool on_;
};

torch::Device device_of(LlamaForCausalLM& model) { return model->parameters().front().device(); }

}  // namespace

// [B] bool: the batch's safety-mix rows (none when the batch was built without a mask).
static torch::Tensor safety_rows(const Batch& b) {
  return b.is_safety.defined() ? b.is_safety : torch::zeros({b.input_ids.size(0)}, torch::kBool);
}

// Rows of `b` the penalty scores: [B] bool.
static torch::Tensor penalized_rows(const Batch& b, const std::string& penalize) {
  if (penalize == "task") return safety_rows(b).logical_not();
  if (penalize == "safety_mix") return safety_rows(b);
  return torch::ones({b.input_ids.size(0)}, torch::kBool);
}

StepResult train_step(LlamaForCausalLM& model, AdamW& optimizer, const std::vector<Batch>& micro_batches,
                      const StepOptions& options) {
  const auto device = device_of(model);
  StepResult r;
  // 1. tokens and penalized response sequences of the whole step, so each micro-batch's sums are divided
  //    by the same numbers and the accumulated gradient equals that of one big batch. Safety rows count
  //    their tokens times their loss weight.
  const bool weighted = options.safety_loss_weight != 1.0;
  std::vector<torch::Tensor> row_weights, penalty_rows;
  int64_t sequences = 0;
  double weighted_tokens = 0;
  for (const auto& b : micro_batches) {
    auto shifted = b.labels.narrow(/*dim=*/1, /*start=*/1, b.labels.size(1) - 1).ne(kIgnoreIndex);  // [B, T-1]
    auto row_tokens = shifted.sum(/*dim=*/1);                                                       // [B]
    const auto tokens = row_tokens.sum().item<int64_t>();
    r.tokens += tokens;
    r.safety_rows += safety_rows(b).sum().item<int64_t>();
    if (weighted) {
      row_weights.push_back(torch::where(safety_rows(b), options.safety_loss_weight, 1.0).to(torch::kFloat32));
      weighted_tokens += (row_tokens.to(torch::kFloat64) * row_weights.back().to(torch::kFloat64)).sum().item<double>();
    } else {
      row_weights.emplace_back();
      weighted_tokens += static_cast<double>(tokens);
    }
    auto rows = penalized_rows(b, options.penalize).logical_and(row_tokens.gt(0)).nonzero().reshape({-1});  // [P]
    sequences += rows.numel();
    penalty_rows.push_back(rows);
  }
  const double denom = std::max(1.0, weighted_tokens);
  const double seq_denom = static_cast<double>(std::max<int64_t>(1, sequences));
  const bool has_penalty = options.estimator == "sampled" ? options.scorer != nullptr : options.classifier != nullptr;
  const bool penalize = has_penalty && options.lambda > 0;

  // 2. forward, loss, backward per micro-batch. The logged sums stay on the device (no host sync per
  //    micro-batch); the sampled estimator syncs anyway, as it decodes and scores text.
  const auto sums_options = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  auto ce_sum = torch::zeros({}, sums_options), penalty_sum = torch::zeros({}, sums_options),
       p_sum = torch::zeros({}, sums_options);
  double sampled_penalty_sum = 0, sampled_p_sum = 0;
  for (size_t m = 0; m < micro_batches.size(); ++m) {
    const auto& b = micro_batches[m];
    torch::Tensor loss;
    {
      AutocastScope autocast(device);
      const bool soft = has_penalty && options.estimator == "soft" && penalty_rows[m].numel() > 0;
      // Labels on the device only for what reads them there: the full-logits CE and the soft penalty.
      const auto input_ids = to_device(b.input_ids, device);
      const auto labels = options.ce_chunk == 0 || soft ? to_device(b.labels, device) : torch::Tensor();
      // embeddings [B, T, Hc]: the soft penalty's input. With λ = 0 the penalty is only measured: its input
      // gets no graph, so the update is exactly that of plain CE.
      torch::Tensor ce, embeddings;
      if (options.ce_chunk > 0) {
        // From the hidden states in chunks: the [B, T, V] logits are never built. Labels and weights stay
        // on the CPU, where the positions to compute are found without a device sync.
        auto hidden = model->model(input_ids);  // [B, T, H]
        const ExpectedEmbeddingsRequest request{soft ? (*options.classifier)->embedding_matrix() : torch::Tensor(),
                                                options.temperature, /*differentiable=*/penalize};
        auto out = chunked_causal_lm_loss(hidden, model->output_weight(), b.labels, options.ce_chunk, row_weights[m],
                                          soft ? &request : nullptr);
        ce = out.ce.sum;
        embeddings = out.embeddings;
      } else {
        auto logits = model(input_ids);  // [B, T, V]
        ce = causal_lm_loss(logits, labels, row_weights[m].defined() ? to_device(row_weights[m], device) : torch::Tensor()).sum;
        torch::AutoGradMode grad_mode(penalize);  // off: no graph from the logits into the embeddings
        if (soft) embeddings = expected_embeddings(logits, (*options.classifier)->embedding_matrix(), options.temperature);
      }
      ce_sum += ce.detach();
      loss = ce / denom;
      if (has_penalty && penalty_rows[m].numel() > 0 && options.estimator == "sampled") {
        const auto sp = sampled_penalty(model, b, penalty_rows[m], *options.scorer, *options.tokenizer, options.sample,
                                        options.baseline, derive_seed(options.sample_seed, m), penalize);
        for (size_t i = 0; i < sp.penalty.size(); ++i) sampled_penalty_sum += sp.penalty[i], sampled_p_sum += sp.p_toxic[i];
        if (penalize) loss = loss + options.lambda * sp.surrogate / seq_denom;
      } else if (soft) {
        const bool all_rows = penalty_rows[m].numel() == b.labels.size(0);
        const auto rows = to_device(penalty_rows[m], device);
        torch::AutoGradMode grad_mode(penalize);
        const auto sp = soft_penalty_from_embeddings(all_rows ? embeddings : embeddings.index_select(/*dim=*/0, rows),
                                                     all_rows ? labels : labels.index_select(0, rows), *options.classifier);
        const auto batch_sum = sp.penalty * sp.has_response.sum();  // mean -> sum over this batch's sequences
        penalty_sum += batch_sum.detach();
        p_sum += sp.p_toxic.sum();
        if (penalize) loss = loss + options.lambda * batch_sum / seq_denom;
      }
    }
    loss.backward();
  }

  // 3. gradient norm and clipping, then the step's one host sync: the logged sums and the norm together.
  const auto norm = clip_gradients(optimizer.params(), options.max_grad_norm);
  const auto host = torch::stack({ce_sum, penalty_sum, p_sum, norm.to(ce_sum.options())}).cpu();
  const double* v = host.data_ptr<double>();
  r.ce = v[0] / denom;
  r.penalized = has_penalty ? sequences : 0;
  r.penalty = (v[1] + sampled_penalty_sum) / seq_denom;
  r.p_toxic = (v[2] + sampled_p_sum) / seq_denom;
  r.loss = r.ce + options.lambda * r.penalty;
  r.grad_norm = v[3];

  // 4. update unless something was not finite
  r.finite = std::isfinite(r.loss) && std::isfinite(r.grad_norm);
  if (r.finite) optimizer.step(options.lr);
  optimizer.zero_grad();
  return r;
}

torch::Tensor clip_gradients(const NamedTensors& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (const auto& [_, p] : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return torch::zeros({});
  // Per-tensor norms in one multi-tensor kernel, then their norm; the scale is applied without reading
  // the norm on the host (a non-finite norm gives a non-finite scale, and the step is skipped anyway).
  auto total = at::linalg_vector_norm(torch::stack(at::_foreach_norm(grads, /*ord=*/2)), 2);  // []
  if (max_norm > 0) {
    auto coef = torch::clamp(max_norm / (total + 1e-6), /*min=*/std::nullopt, /*max=*/1.0);
    at::_foreach_mul_(grads, coef);
  }
  return total;
}

EvalResult evaluate_ce(LlamaForCausalLM& model, const std::vector<Batch>& batches) {
  torch::NoGradGuard no_grad;
  const auto device = device_of(model);
  // Chunked from the hidden states, as in training (no [B, T, V] logits), summed on the device and read once.
  auto sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(device));
  auto count = torch::zeros({}, torch::TensorOptions().dtype(torch::kInt64).device(device));
  for (const auto& b : batches) {
    AutocastScope autocast(device);
    const auto ce = chunked_causal_lm_loss(model->model(to_device(b.input_ids, device)), model->output_weight(), b.labels).ce;
    sum += ce.sum;
    count += ce.count;
  }
  EvalResult r;
  r.tokens = count.item<int64_t>();
  r.ce = r.tokens > 0 ? sum.item<double>() / static_cast<double>(r.tokens) : 0.0;
  return r;
}

}  // namespace st
