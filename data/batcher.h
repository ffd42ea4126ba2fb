// data/batcher.h — deterministic micro-batches over tokenized examples: a fresh permutation per epoch
// from (seed, epoch), examples of similar length grouped to cut padding, and a cursor that says exactly
// where the stream is, so a resumed run neither repeats nor skips a batch.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <random>
#include <vector>

#include "data/examples.h"

namespace st {

struct BatchCursor {
  int64_t epoch = 0;
  int64_t index = 0;  // next micro-batch within the epoch
};

struct Batch {
  torch::Tensor input_ids;  // [B, T] int64, right-padded with pad_id
  torch::Tensor labels;     // [B, T] int64, kIgnoreIndex on prompt and padding
  std::vector<size_t> examples;  // indices into the example list (provenance)
  int64_t epoch = 0;
  int64_t loss_tokens() const;  // positions that count in the shifted loss
};

// Pads examples into one batch.
Batch collate(const std::vector<Example>& examples, const std::vector<size_t>& indices, int pad_id);

// uniform integer in [0, n) from mt19937_64 by rejection: the same on every standard library.
uint64_t uniform_below(uint64_t n, std::mt19937_64& rng);

class Batcher {
 public:
  Batcher(const std::vector<Example>& examples, int64_t batch_size, uint64_t seed, bool group_by_length, int pad_id);

  // The micro-batch at `cursor`, advancing it (into the next epoch after the last batch).
  Batch next(BatchCursor& cursor);
  int64_t batches_per_epoch() const { return static_cast<int64_t>(num_batches_); }
  // The example indices of every micro-batch of `epoch`, in order.
  std::vector<std::vector<size_t>> epoch_plan(int64_t epoch) const;

 private:
  const std::vector<Example>& examples_;
  int64_t batch_size_;
  uint64_t seed_;
  bool group_by_length_;
  int pad_id_;
  size_t num_batches_;
  int64_t cached_epoch_ = -1;
  std::vector<std::vector<size_t>> plan_;
};

}  // namespace st
