// trainer/flat_shard.h — the parameters laid end to end as one flat vector and cut into equal slices, one per
// process: what ZeRO stage 1 shards the AdamW moments by. Each slice is a list of segments, each a
// contiguous run of one parameter's elements.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "models/safetensors.h"

namespace st {

struct FlatShard {
  struct Segment {
    size_t param = 0;        // index into the parameter list
    int64_t offset = 0;      // first element within the parameter (flattened)
    int64_t length = 0;      // elements
    int64_t slice_offset = 0;  // first element within this process's slice
  };
  int64_t total = 0;      // elements of all parameters
  int64_t per_rank = 0;   // every slice's length: ceil(total / world); the last one is padded
  int64_t begin = 0;      // this process's slice starts here in the flat vector
  std::vector<Segment> segments;

  static FlatShard of(const NamedTensors& params, int rank, int world);

  // The segment's elements of parameter tensor `t` (a view: writing it writes `t`).
  static torch::Tensor view(const torch::Tensor& t, const Segment& s) { return t.reshape({-1}).narrow(0, s.offset, s.length); }
  // Copies a [world × per_rank] flat vector back into `tensors`.
  void unflatten_into(const torch::Tensor& flat, std::vector<torch::Tensor>& tensors) const;
};

}  // namespace st
