// trainer/penalty_targets.cpp — the sequences a micro-batch's penalty scores, cut out of packed rows when needed.
#include "trainer/penalty_targets.h"

#include <algorithm>

#include "common/check.h"
#include "common/device_copy.h"
#include "common/tokens.h"

namespace st {
namespace {

// Whether the packed example has a loss token (its first position never has one: see collate_packed).
bool has_loss_token(const PackedExample& e, const torch::TensorAccessor<int64_t, 2>& labels) {
  for (int64_t t = 1; t < e.length; ++t)
    if (labels[e.row][e.start + t] != kIgnoreIndex) return true;
  return false;
}

PenaltyTargets packed_targets(const Batch& batch, const torch::Tensor& scored) {
  const auto labels_a = batch.labels.accessor<int64_t, 2>();
  const auto scored_a = scored.accessor<bool, 1>();
  std::vector<PackedExample> kept;
  for (const auto& e : batch.packed)
    if (scored_a[e.row] && has_loss_token(e, labels_a)) kept.push_back(e);
  const auto S = static_cast<int64_t>(kept.size());
  int64_t Ts = 0;
  for (const auto& e : kept) Ts = std::max(Ts, e.length);
  // Positions past an example's end repeat its last one with an ignored label: nothing reads them.
  auto source = torch::empty({S, Ts}, torch::kInt64);             // [S, Ts]
  auto past_end = torch::empty({S, Ts}, torch::kBool);            // [S, Ts]
  auto source_a = source.accessor<int64_t, 2>();
  auto past_end_a = past_end.accessor<bool, 2>();
  const int64_t T = batch.input_ids.size(1);
  for (int64_t s = 0; s < S; ++s) {
    const auto& e = kept[static_cast<size_t>(s)];
    for (int64_t t = 0; t < Ts; ++t) {
      source_a[s][t] = e.row * T + e.start + std::min(t, e.length - 1);
      past_end_a[s][t] = t >= e.length;
    }
  }
  PenaltyTargets out;
  out.source = source;
  out.input_ids = batch.input_ids.flatten().index({source});                                            // [S, Ts]
  out.labels = batch.labels.flatten().index({source}).masked_fill(past_end, kIgnoreIndex);  // [S, Ts]
  out.rows = torch::arange(S, torch::kInt64);
  return out;
}

}  // namespace

PenaltyTargets penalty_targets(const Batch& batch, const torch::Tensor& scored) {
  if (!batch.packed.empty()) return packed_targets(batch, scored);
  return {batch.input_ids, batch.labels, scored.nonzero().reshape({-1}), {}};
}

torch::Tensor cut_positions(const torch::Tensor& per_position, const PenaltyTargets& targets) {
  ST_CHECK(targets.source.defined(), "internal: cut_positions on a batch that is not packed");
  const auto index = to_device(targets.source.flatten(), per_position.device());                 // [S * Ts]
  std::vector<int64_t> shape{targets.source.size(0), targets.source.size(1)};
  const auto sizes = per_position.sizes();
  shape.insert(shape.end(), sizes.begin() + 2, sizes.end());
  return per_position.flatten(/*start_dim=*/0, /*end_dim=*/1).index_select(/*dim=*/0, index).view(shape);  // [S, Ts, ...]
}

}  // namespace st
