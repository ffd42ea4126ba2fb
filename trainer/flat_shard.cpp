// trainer/flat_shard.cpp — slices of the flattened parameters.
#include "trainer/flat_shard.h"

#include <algorithm>

namespace st {

FlatShard FlatShard::of(const NamedTensors& params, int rank, int world) {
  FlatShard s;
  for (const auto& [_, p] : params) s.total += p.numel();
  s.per_rank = (s.total + world - 1) / world;
  s.begin = s.per_rank * rank;
  const int64_t end = std::min(s.total, s.begin + s.per_rank);
  int64_t start = 0;  // the current parameter's first element in the flat vector
  for (size_t i = 0; i < params.size(); ++i) {
    const int64_t n = params[i].second.numel();
    const int64_t lo = std::max(start, s.begin), hi = std::min(start + n, end);
    if (lo < hi) s.segments.push_back({i, lo - start, hi - lo, lo - s.begin});
    start += n;
  }
  return s;
}

void FlatShard::unflatten_into(const torch::Tensor& flat, std::vector<torch::Tensor>& tensors) const {
  int64_t start = 0;
  for (auto& t : tensors) {
    t.copy_(flat.narrow(0, start, t.numel()).view(t.sizes()));
    start += t.numel();
  }
}

}  // namespace st
