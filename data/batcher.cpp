// data/batcher.cpp — epoch plans, length grouping and padding.
#include "data/batcher.h"

#include <algorithm>
#include <random>

#include "common/tokens.h"

namespace st {

int64_t Batch::loss_tokens() const {
  return labels.narrow(/*dim=*/1, /*start=*/1, labels.size(1) - 1).ne(kIgnoreIndex).sum().item<int64_t>();
}

Batch collate(const std::vector<TokenRow>& rows, int pad_id, int64_t safety_rows) {
  int64_t T = 0;
  for (const TokenRow& row : rows) T = std::max(T, row.size);
  const int64_t B = static_cast<int64_t>(rows.size());
  auto ids = torch::full({B, T}, pad_id, torch::kInt64);                 // [B, T]
  auto labels = torch::full({B, T}, kIgnoreIndex, torch::kInt64);  // [B, T]
  auto ids_a = ids.accessor<int64_t, 2>();
  auto labels_a = labels.accessor<int64_t, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const TokenRow& row = rows[static_cast<size_t>(b)];
    for (int64_t t = 0; t < row.size; ++t) {
      ids_a[b][t] = row.ids[t];
      labels_a[b][t] = row.label(t);
    }
  }
  Batch batch;
  batch.input_ids = ids;
  batch.labels = labels;
  batch.is_safety = torch::arange(B).ge(B - safety_rows);
  for (const TokenRow& row : rows) batch.real_tokens += row.size;
  return batch;
}

Batch collate(const std::vector<Example>& examples, const std::vector<size_t>& indices, int pad_id) {
  std::vector<TokenRow> rows;
  for (size_t i : indices) rows.push_back(row_of(examples[i]));
  Batch batch = collate(rows, pad_id);
  batch.examples = indices;
  return batch;
}

Batcher::Batcher(const TokenizedData& examples, int64_t batch_size, uint64_t seed, bool group_by_length,
                 int pad_id)
    : examples_(examples), batch_size_(batch_size), seed_(seed), group_by_length_(group_by_length), pad_id_(pad_id) {
  num_batches_ = (examples.size() + static_cast<size_t>(batch_size) - 1) / static_cast<size_t>(batch_size);
}

std::vector<std::vector<size_t>> Batcher::epoch_plan(int64_t epoch) const {
  std::mt19937_64 rng(batch_order_seed(seed_, epoch));
  std::vector<size_t> order(examples_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  seeded_shuffle(order, rng);
  const size_t bs = static_cast<size_t>(batch_size_);
  if (group_by_length_) {
    // As transformers' LengthGroupedSampler: sort within windows of 64 batches (longest first), so
    // batches hold similar lengths while the order stays random at the scale of the window.
    const size_t window = bs * 64;
    for (size_t start = 0; start < order.size(); start += window) {
      auto end = order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + window));
      std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(start), end, [&](size_t a, size_t b) {
        return examples_.length(a) > examples_.length(b);
      });
    }
  }
  std::vector<std::vector<size_t>> batches;
  for (size_t start = 0; start < order.size(); start += bs)
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(start),
                         order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + bs)));
  if (group_by_length_) seeded_shuffle(batches, rng);  // otherwise every window would start with its longest batch
  return batches;
}

Batch Batcher::next(BatchCursor& cursor, const std::vector<const Example*>& extra) {
  if (cursor.index >= static_cast<int64_t>(num_batches_)) {
    cursor.epoch += 1;
    cursor.index = 0;
  }
  if (cached_epoch_ != cursor.epoch) {
    plan_ = epoch_plan(cursor.epoch);
    cached_epoch_ = cursor.epoch;
  }
  const auto& indices = plan_[static_cast<size_t>(cursor.index)];
  std::vector<TokenRow> rows;
  for (size_t i : indices) rows.push_back(examples_.row(i));
  for (const Example* ex : extra) rows.push_back(row_of(*ex));
  Batch batch = collate(rows, pad_id_, static_cast<int64_t>(extra.size()));
  batch.examples = indices;
  batch.epoch = cursor.epoch;
  cursor.index += 1;
  return batch;
}

}  // namespace st
