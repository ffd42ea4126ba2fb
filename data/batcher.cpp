// data/batcher.cpp — epoch plans, length grouping and padding.
#include "data/batcher.h"

#include <algorithm>
#include <numeric>
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

std::vector<std::vector<size_t>> first_fit_decreasing(const std::vector<int64_t>& lengths, int64_t capacity) {
  std::vector<size_t> order(lengths.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  std::vector<std::vector<size_t>> rows;
  std::vector<int64_t> fill;
  for (size_t i : order) {
    size_t r = 0;
    while (r < rows.size() && fill[r] + lengths[i] > capacity) ++r;
    if (r == rows.size()) rows.emplace_back(), fill.push_back(0);
    rows[r].push_back(i);
    fill[r] += lengths[i];
  }
  return rows;
}

namespace {

int64_t longest_row(const std::vector<std::vector<size_t>>& rows, const std::vector<int64_t>& lengths) {
  int64_t longest = 0;
  for (const auto& row : rows) {
    int64_t n = 0;
    for (size_t i : row) n += lengths[i];
    longest = std::max(longest, n);
  }
  return longest;
}

}  // namespace

std::vector<std::vector<size_t>> packed_layout(const std::vector<int64_t>& lengths, int64_t capacity) {
  if (lengths.empty()) return {};
  const int64_t longest = *std::max_element(lengths.begin(), lengths.end());
  std::vector<std::vector<size_t>> best;
  int64_t best_positions = -1;
  // Row lengths from the longest item up by a quarter at a time (a few dozen tries even when max_seq_len is
  // a hundred times the examples), ending at the capacity.
  for (int64_t length = longest;; length = std::min(capacity, std::max(length + 1, length * 5 / 4))) {
    auto rows = first_fit_decreasing(lengths, std::max(length, longest));
    const int64_t positions = static_cast<int64_t>(rows.size()) * longest_row(rows, lengths);
    if (best_positions < 0 || positions < best_positions) best = std::move(rows), best_positions = positions;
    if (length >= capacity) break;
  }
  return best;
}

namespace {

// Rows [begin, end) of `rows` packed: each packed row as indices into `rows`.
std::vector<std::vector<size_t>> pack(const std::vector<TokenRow>& rows, size_t begin, size_t end, int64_t capacity) {
  std::vector<int64_t> lengths;
  for (size_t i = begin; i < end; ++i) lengths.push_back(rows[i].size);
  auto packed = packed_layout(lengths, capacity);
  for (auto& row : packed)
    for (auto& i : row) i += begin;
  return packed;
}

int64_t packed_length(const std::vector<TokenRow>& rows, const std::vector<size_t>& members) {
  int64_t n = 0;
  for (size_t i : members) n += rows[i].size;
  return n;
}

}  // namespace

Batch collate_packed(const std::vector<TokenRow>& rows, int pad_id, int64_t capacity, int64_t safety_rows) {
  const size_t task = rows.size() - static_cast<size_t>(safety_rows);
  auto packed = pack(rows, 0, task, capacity);
  const auto task_rows = static_cast<int64_t>(packed.size());
  for (auto& row : pack(rows, task, rows.size(), capacity)) packed.push_back(std::move(row));
  int64_t T = 0;
  for (const auto& members : packed) T = std::max(T, packed_length(rows, members));
  const auto B = static_cast<int64_t>(packed.size());
  auto ids = torch::full({B, T}, pad_id, torch::kInt64);           // [B, T]
  auto labels = torch::full({B, T}, kIgnoreIndex, torch::kInt64);  // [B, T]
  auto positions = torch::zeros({B, T}, torch::kInt64);           // [B, T]
  auto segments = torch::zeros({B, T}, torch::kInt64);            // [B, T]
  auto ids_a = ids.accessor<int64_t, 2>(), labels_a = labels.accessor<int64_t, 2>();
  auto positions_a = positions.accessor<int64_t, 2>(), segments_a = segments.accessor<int64_t, 2>();
  Batch batch;
  batch.packed.resize(rows.size());
  for (int64_t b = 0; b < B; ++b) {
    int64_t at = 0, segment = 0;
    for (size_t i : packed[static_cast<size_t>(b)]) {
      const TokenRow& row = rows[i];
      ++segment;
      batch.packed[i] = {b, at, row.size};
      for (int64_t t = 0; t < row.size; ++t, ++at) {
        ids_a[b][at] = row.ids[t];
        labels_a[b][at] = t == 0 ? kIgnoreIndex : row.label(t);
        positions_a[b][at] = t;
        segments_a[b][at] = segment;
      }
      batch.real_tokens += row.size;
    }
  }
  batch.input_ids = ids;
  batch.labels = labels;
  batch.position_ids = positions;
  batch.segment_ids = segments;
  batch.is_safety = torch::arange(B).ge(task_rows);
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
                 int pad_id, int64_t pack_capacity)
    : examples_(examples), batch_size_(batch_size), seed_(seed), group_by_length_(group_by_length), pad_id_(pad_id),
      pack_capacity_(pack_capacity) {
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

double Batcher::token_efficiency(int64_t epoch) const {
  double real = 0, occupied = 0;
  for (const auto& indices : epoch_plan(epoch)) {
    std::vector<int64_t> lengths;
    for (size_t i : indices) lengths.push_back(examples_.length(i));
    const int64_t longest = *std::max_element(lengths.begin(), lengths.end());
    const int64_t total = std::accumulate(lengths.begin(), lengths.end(), int64_t{0});
    real += static_cast<double>(total);
    if (pack_capacity_ <= 0) {
      occupied += static_cast<double>(longest) * static_cast<double>(lengths.size());
      continue;
    }
    const auto packed = packed_layout(lengths, pack_capacity_);
    occupied += static_cast<double>(longest_row(packed, lengths)) * static_cast<double>(packed.size());
  }
  return occupied > 0 ? real / occupied : 1.0;
}

// The example indices at `cursor`, moving it on (into the next epoch after the epoch's last batch).
const std::vector<size_t>& Batcher::advance(BatchCursor& cursor) {
  if (cursor.index >= static_cast<int64_t>(num_batches_)) {
    cursor.epoch += 1;
    cursor.index = 0;
  }
  if (cached_epoch_ != cursor.epoch) {
    plan_ = epoch_plan(cursor.epoch);
    cached_epoch_ = cursor.epoch;
  }
  cursor.index += 1;
  return plan_[static_cast<size_t>(cursor.index - 1)];
}

Batch Batcher::next(BatchCursor& cursor, const std::vector<const Example*>& extra) {
  const auto& indices = advance(cursor);
  std::vector<TokenRow> rows;
  for (size_t i : indices) rows.push_back(examples_.row(i));
  for (const Example* ex : extra) rows.push_back(row_of(*ex));
  const auto safety_rows = static_cast<int64_t>(extra.size());
  Batch batch = pack_capacity_ > 0 ? collate_packed(rows, pad_id_, pack_capacity_, safety_rows) : collate(rows, pad_id_, safety_rows);
  batch.examples = indices;
  batch.epoch = cursor.epoch;  // advance() left the cursor in the batch's epoch
  return batch;
}

void Batcher::skip(BatchCursor& cursor) { advance(cursor); }

}  // namespace st
