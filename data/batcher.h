// data/batcher.h — deterministic micro-batches over tokenized examples: a fresh permutation per epoch
// from (seed, epoch), examples of similar length grouped to cut padding, and a cursor that says exactly
// where the stream is, so a resumed run neither repeats nor skips a batch.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <random>
#include <vector>

#include "common/rng.h"
#include "data/tokenized_data.h"

namespace st {

struct BatchCursor {
  int64_t epoch = 0;
  int64_t index = 0;  // next micro-batch within the epoch
};

struct Batch {
  torch::Tensor input_ids;  // [B, T] int64, right-padded with pad_id
  torch::Tensor labels;     // [B, T] int64, kIgnoreIndex on prompt and padding
  torch::Tensor is_safety;   // [B] bool: rows mixed in from the safety subset (they come last)
  std::vector<size_t> examples;  // indices into the task example list (provenance)
  int64_t epoch = 0;
  int64_t real_tokens = 0;  // positions that hold a token, not padding
  int64_t loss_tokens() const;  // positions that count in the shifted loss
};

// Pads rows into one batch; the last `safety_rows` are marked in is_safety.
Batch collate(const std::vector<TokenRow>& rows, int pad_id, int64_t safety_rows = 0);
Batch collate(const std::vector<Example>& examples, const std::vector<size_t>& indices, int pad_id);

class Batcher {
 public:
  Batcher(const TokenizedData& examples, int64_t batch_size, uint64_t seed, bool group_by_length, int pad_id);

  // The micro-batch at `cursor`, advancing it (into the next epoch after the last batch); `extra` rows
  // (safety examples) are appended after the task rows.
  Batch next(BatchCursor& cursor, const std::vector<const Example*>& extra = {});
  int64_t batches_per_epoch() const { return static_cast<int64_t>(num_batches_); }
  // The example indices of every micro-batch of `epoch`, in order.
  std::vector<std::vector<size_t>> epoch_plan(int64_t epoch) const;

 private:
  const TokenizedData& examples_;
  int64_t batch_size_;
  uint64_t seed_;
  bool group_by_length_;
  int pad_id_;
  size_t num_batches_;
  int64_t cached_epoch_ = -1;
  std::vector<std::vector<size_t>> plan_;
};

}  // namespace st
