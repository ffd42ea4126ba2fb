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

// Where one example of a packed micro-batch sits: row `row`, positions [start, start + length).
struct PackedExample {
  int64_t row = 0, start = 0, length = 0;
};

struct Batch {
  torch::Tensor input_ids;  // [B, T] int64, right-padded with pad_id
  torch::Tensor labels;     // [B, T] int64, kIgnoreIndex on prompt and padding
  torch::Tensor is_safety;   // [B] bool: rows mixed in from the safety subset (they come last)
  // Packed rows only (undefined otherwise): several examples per row, each with positions from 0 and
  // attention kept inside it (models/llama.h packed_attention_mask).
  torch::Tensor position_ids;  // [B, T] int64
  torch::Tensor segment_ids;   // [B, T] int64: 1, 2, ... per example of the row; padding 0
  std::vector<PackedExample> packed;  // every example, in the micro-batch's order (the padded batch's rows)
  std::vector<size_t> examples;  // indices into the task example list (provenance)
  int64_t epoch = 0;
  int64_t real_tokens = 0;  // positions that hold a token, not padding
  int64_t loss_tokens() const;  // positions that count in the shifted loss
};

// Pads rows into one batch; the last `safety_rows` are marked in is_safety.
Batch collate(const std::vector<TokenRow>& rows, int pad_id, int64_t safety_rows = 0);

// Which items share a row: first-fit decreasing by length (ties in input order) into rows of `capacity`
// tokens; rows in the order they were opened. An item longer than `capacity` gets a row of its own.
std::vector<std::vector<size_t>> first_fit_decreasing(const std::vector<int64_t>& lengths, int64_t capacity);

// The packed layout of one micro-batch: first_fit_decreasing at the row length, from the longest item up to
// `capacity` in steps of a quarter, that leaves the fewest positions (rows × longest row). Rows fill up to a length, then every row
// pads to the longest, so filling to `capacity` can cost more than it saves; the longest item alone as the
// length never does, so the result never has more positions than the padded batch.
std::vector<std::vector<size_t>> packed_layout(const std::vector<int64_t>& lengths, int64_t capacity);

// Packs the task rows into rows of at most `capacity` tokens, then the last `safety_rows` into rows of
// their own (marked in is_safety). Each example's first label is ignored, so the shifted loss never
// predicts one example from the one before it: the loss and gradients equal collate()'s on the same rows.
Batch collate_packed(const std::vector<TokenRow>& rows, int pad_id, int64_t capacity, int64_t safety_rows = 0);
Batch collate(const std::vector<Example>& examples, const std::vector<size_t>& indices, int pad_id);

class Batcher {
 public:
  // pack_capacity > 0 packs each micro-batch's examples into rows of that many tokens (collate_packed).
  Batcher(const TokenizedData& examples, int64_t batch_size, uint64_t seed, bool group_by_length, int pad_id,
          int64_t pack_capacity = 0);

  // The micro-batch at `cursor`, advancing it (into the next epoch after the last batch); `extra` rows
  // (safety examples) are appended after the task rows.
  Batch next(BatchCursor& cursor, const std::vector<const Example*>& extra = {});
  // Moves `cursor` past one micro-batch without building it (another process of a data-parallel run takes it).
  void skip(BatchCursor& cursor);
  int64_t batches_per_epoch() const { return static_cast<int64_t>(num_batches_); }
  // The example indices of every micro-batch of `epoch`, in order.
  std::vector<std::vector<size_t>> epoch_plan(int64_t epoch) const;
  // Real tokens over the positions the task rows of `epoch`'s micro-batches occupy (rows × longest row).
  double token_efficiency(int64_t epoch) const;

 private:
  const std::vector<size_t>& advance(BatchCursor& cursor);

  const TokenizedData& examples_;
  int64_t batch_size_;
  uint64_t seed_;
  bool group_by_length_;
  int pad_id_;
  int64_t pack_capacity_;
  size_t num_batches_;
  int64_t cached_epoch_ = -1;
  std::vector<std::vector<size_t>> plan_;
};

}  // namespace st
