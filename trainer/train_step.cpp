// trainer/train_step.cpp — forward/backward/clip/update for one step.
#include "trainer/train_step.h"

#include <ATen/autocast_mode.h>

#include <cmath>

#include "common/check.h"
#include "common/device_copy.h"
#include "common/rng.h"
#include "common/tokens.h"
#include "losses/causal_lm_loss.h"
#include "losses/chunked_lm_loss.h"
#include "losses/soft_penalty.h"
#include "trainer/penalty_targets.h"

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

// [B] bool: the batch's safety-mix rows (none when the batch was built without a mask).
torch::Tensor safety_rows(const Batch& b) {
  return b.is_safety.defined() ? b.is_safety : torch::zeros({b.input_ids.size(0)}, torch::kBool);
}

// Rows of `b` the penalty scores: [B] bool.
torch::Tensor penalized_rows(const Batch& b, PenalizedRows penalize) {
  if (penalize == PenalizedRows::Task) return safety_rows(b).logical_not();
  if (penalize == PenalizedRows::SafetyMix) return safety_rows(b);
  return torch::ones({b.input_ids.size(0)}, torch::kBool);
}

// Phase 1: the step's token and sequence counts, so each micro-batch's sums are divided by the same
// numbers and the accumulated gradient equals that of one big batch. Safety rows count their tokens
// times their loss weight.
struct StepCounts {
  std::vector<torch::Tensor> row_weights;   // [B] float32 per micro-batch, undefined when all weights are 1
  std::vector<PenaltyTargets> penalty;      // per micro-batch: the sequences with a response to score
  int64_t sequences = 0, tokens = 0, safety_rows = 0, input_tokens = 0;
  double weighted_tokens = 0;

  // The counts of the whole step: summed over processes in one small collective.
  void sum_over(Communicator& comm) {
    std::vector<torch::Tensor> totals{torch::tensor({weighted_tokens, static_cast<double>(sequences), static_cast<double>(tokens),
                                                     static_cast<double>(safety_rows), static_cast<double>(input_tokens)},
                                                    torch::kFloat64)};
    comm.all_reduce_sum(totals);
    const double* v = totals[0].data_ptr<double>();
    weighted_tokens = v[0];
    sequences = static_cast<int64_t>(v[1]), tokens = static_cast<int64_t>(v[2]);
    safety_rows = static_cast<int64_t>(v[3]), input_tokens = static_cast<int64_t>(v[4]);
  }
};

StepCounts count_step(const std::vector<Batch>& micro_batches, const StepOptions& options) {
  StepCounts c;
  const bool weighted = options.safety_loss_weight != 1.0;
  for (const auto& b : micro_batches) {
    auto shifted = b.labels.narrow(/*dim=*/1, /*start=*/1, b.labels.size(1) - 1).ne(kIgnoreIndex);  // [B, T-1]
    auto row_tokens = shifted.sum(/*dim=*/1);                                                       // [B]
    const auto tokens = row_tokens.sum().item<int64_t>();
    c.tokens += tokens;
    c.input_tokens += b.real_tokens;
    c.safety_rows += safety_rows(b).sum().item<int64_t>();
    if (weighted) {
      c.row_weights.push_back(torch::where(safety_rows(b), options.safety_loss_weight, 1.0).to(torch::kFloat32));
      c.weighted_tokens += (row_tokens.to(torch::kFloat64) * c.row_weights.back().to(torch::kFloat64)).sum().item<double>();
    } else {
      c.row_weights.emplace_back();
      c.weighted_tokens += static_cast<double>(tokens);
    }
    c.penalty.push_back(penalty_targets(b, penalized_rows(b, options.penalize).logical_and(row_tokens.gt(0))));
    c.sequences += c.penalty.back().count();
  }
  return c;
}

// The CE sum of one micro-batch, and the expected embeddings when the estimator asked for them.
torch::Tensor micro_batch_ce(LlamaForCausalLM& model, const Batch& b, const torch::Tensor& row_weights,
                             const std::optional<ExpectedEmbeddingsRequest>& request, const StepOptions& options,
                             PenaltyInputs& penalty_inputs) {
  const auto device = device_of(model);
  // Labels on the device only for what reads them there: the full-logits CE and the soft penalty.
  const auto input_ids = to_device(b.input_ids, device);
  const auto labels = options.ce_chunk == 0 || request ? to_device(b.labels, device) : torch::Tensor();
  // Packed rows: positions restart at each example and attention stays inside it.
  const auto positions = b.position_ids.defined() ? to_device(b.position_ids, device) : torch::Tensor();
  const auto mask = b.segment_ids.defined() ? packed_attention_mask(to_device(b.segment_ids, device)) : torch::Tensor();
  penalty_inputs.device_labels = labels;
  if (options.ce_chunk > 0) {
    // From the hidden states in chunks: the [B, T, V] logits are never built. Labels and weights stay on
    // the CPU, where the positions to compute are found without a device sync.
    auto hidden = model->model(input_ids, positions, mask);  // [B, T, H]
    auto out = chunked_causal_lm_loss(hidden, model->output_weight(), b.labels, options.ce_chunk, row_weights,
                                      request ? &*request : nullptr);
    penalty_inputs.embeddings = out.embeddings;
    return out.ce.sum;
  }
  auto logits = model(input_ids, positions, mask);  // [B, T, V]
  auto ce = causal_lm_loss(logits, labels, row_weights.defined() ? to_device(row_weights, device) : torch::Tensor()).sum;
  // With λ = 0 the penalty is only measured: its input gets no graph, so the update is exactly that of
  // plain CE.
  torch::AutoGradMode grad_mode(request && request->differentiable);
  if (request) penalty_inputs.embeddings = expected_embeddings(logits, request->matrix, request->temperature);
  return ce;
}

}  // namespace

StepResult train_step(LlamaForCausalLM& model, AdamW& optimizer, const std::vector<Batch>& micro_batches,
                      const StepOptions& options) {
  const auto device = device_of(model);
  StepCounts counts = count_step(micro_batches, options);
  Communicator* comm = options.communicator != nullptr && options.communicator->world_size() > 1 ? options.communicator : nullptr;
  const double busy_before = comm ? comm->busy_s() : 0.0;
  if (comm) counts.sum_over(*comm);  // normalised by the global counts: W processes equal one with W-fold accumulation
  const double denom = std::max(1.0, counts.weighted_tokens);
  const double seq_denom = static_cast<double>(std::max<int64_t>(1, counts.sequences));
  PenaltyEstimator* estimator = options.estimator;
  const bool penalize = estimator != nullptr && options.lambda > 0;

  // 2. forward, loss, backward per micro-batch. The logged sums stay on the device (no host sync per
  //    micro-batch) unless the estimator leaves the device anyway.
  const auto sums_options = torch::TensorOptions().dtype(torch::kFloat64).device(device);
  auto ce_sum = torch::zeros({}, sums_options);
  PenaltySums penalty_sums{torch::zeros({}, sums_options), torch::zeros({}, sums_options)};
  for (size_t m = 0; m < micro_batches.size(); ++m) {
    const auto& b = micro_batches[m];
    const auto& targets = counts.penalty[m];
    const bool scores_rows = estimator != nullptr && targets.count() > 0;
    torch::Tensor loss;
    {
      AutocastScope autocast(device);
      const auto seed = derive_seed(options.penalty_seed, static_cast<uint64_t>(options.first_micro_batch) + m);
      PenaltyInputs in{&model, targets.input_ids, targets.labels, {}, {}, targets.rows, seed, penalize};
      const auto request = scores_rows ? estimator->embeddings_request(penalize) : std::nullopt;
      const auto ce = micro_batch_ce(model, b, counts.row_weights[m], request, options, in);
      if (request && targets.source.defined()) {  // packed: the examples' positions, as rows of their own
        in.embeddings = cut_positions(in.embeddings, targets);
        in.device_labels = to_device(targets.labels, device);
      }
      ce_sum += ce.detach();
      loss = ce / denom;
      if (scores_rows) {
        const auto objective = estimator->penalize(in, penalty_sums);
        if (penalize) loss = loss + options.lambda * objective / seq_denom;
      }
    }
    if (m + 1 == micro_batches.size()) optimizer.arm_reduction();  // the gradients are final after this backward
    loss.backward();
  }

  // 3. gradients summed over processes, norm and clipping, then the step's one host sync: the logged sums
  //    and the norm together. The sums are then added over processes too (on the host: a few numbers).
  const auto norm = optimizer.reduce_and_clip(options.max_grad_norm);
  const auto host = torch::stack({ce_sum, penalty_sums.penalty, penalty_sums.p_toxic, norm.to(ce_sum.options())}).cpu();  // [4]
  double* v = host.data_ptr<double>();
  v[1] += penalty_sums.host_penalty;
  v[2] += penalty_sums.host_p_toxic;
  if (comm) {
    std::vector<torch::Tensor> sums{host.narrow(/*dim=*/0, /*start=*/0, /*length=*/3)};
    comm->all_reduce_sum(sums);
  }
  StepResult r;
  r.tokens = counts.tokens;
  r.input_tokens = counts.input_tokens;
  r.safety_rows = counts.safety_rows;
  r.ce = v[0] / denom;
  r.penalized = estimator != nullptr ? counts.sequences : 0;
  r.penalty = v[1] / seq_denom;
  r.p_toxic = v[2] / seq_denom;
  r.loss = r.ce + options.lambda * r.penalty;
  r.grad_norm = v[3];

  // 4. update unless something was not finite
  r.finite = std::isfinite(r.loss) && std::isfinite(r.grad_norm);
  if (r.finite) optimizer.step(options.lr);
  optimizer.zero_grad();
  if (comm) r.comm_s = comm->busy_s() - busy_before;
  if (r.penalized > 0) estimator->end_step(r.penalty);
  return r;
}

EvalResult evaluate_ce(LlamaForCausalLM& model, const std::vector<Batch>& batches) {
  torch::NoGradGuard no_grad;
  EvalModeGuard eval_mode(*model);
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
