// data/tokenized_data.cpp — building and reading the flat example arrays.
#include "data/tokenized_data.h"

#include <type_traits>

#include "common/check.h"
#include "common/files.h"

namespace st {

static_assert(std::is_same_v<int, int32_t>, "Example's ids are read as int32 rows");

TokenRow row_of(const Example& example) {
  return {example.input_ids.data(), example.labels.data(), nullptr, static_cast<int64_t>(example.input_ids.size())};
}

void TokenArrays::append(const Example& example, uint32_t file_index, int64_t line) {
  ids.insert(ids.end(), example.input_ids.begin(), example.input_ids.end());
  for (size_t t = 0; t < example.labels.size(); ++t) {
    ST_CHECK(example.labels[t] == kIgnoreIndex || example.labels[t] == example.input_ids[t],
             "internal: a label that is neither ignored nor its input id ({}:{}, position {})", example.file, line, t);
    trained.push_back(example.labels[t] != kIgnoreIndex ? 1 : 0);
  }
  offsets.push_back(static_cast<int64_t>(ids.size()));
  lines.push_back(line);
  files.push_back(file_index);
  truncated.push_back(example.truncated ? 1 : 0);
}

void TokenArrays::append(const TokenArrays& more, uint32_t file_offset, int64_t line_offset) {
  const int64_t base = static_cast<int64_t>(ids.size());
  ids.insert(ids.end(), more.ids.begin(), more.ids.end());
  trained.insert(trained.end(), more.trained.begin(), more.trained.end());
  for (size_t i = 1; i < more.offsets.size(); ++i) offsets.push_back(base + more.offsets[i]);
  for (int64_t line : more.lines) lines.push_back(line + line_offset);
  for (uint32_t file : more.files) files.push_back(file + file_offset);
  truncated.insert(truncated.end(), more.truncated.begin(), more.truncated.end());
}

void TokenArrays::reserve(size_t examples, size_t tokens) {
  offsets.reserve(examples + 1);
  lines.reserve(examples);
  files.reserve(examples);
  truncated.reserve(examples);
  ids.reserve(tokens);
  trained.reserve(tokens);
}

TokenizedData::TokenizedData(TokenArrays arrays, std::vector<std::string> files, DataStats stats)
    : owned_(std::make_shared<TokenArrays>(std::move(arrays))), files_(std::move(files)), stats_(std::move(stats)) {
  const TokenArrays& a = *owned_;
  v_.offsets = {a.offsets.data(), a.offsets.size()};
  v_.lines = {a.lines.data(), a.lines.size()};
  v_.ids = {a.ids.data(), a.ids.size()};
  v_.trained = {a.trained.data(), a.trained.size()};
  v_.files = {a.files.data(), a.files.size()};
  v_.truncated = {a.truncated.data(), a.truncated.size()};
}

TokenizedData::TokenizedData(std::shared_ptr<const MappedFile> mapping, const Views& views, std::vector<std::string> files,
                             DataStats stats)
    : mapping_(std::move(mapping)), v_(views), files_(std::move(files)), stats_(std::move(stats)) {}

TokenRow TokenizedData::row(size_t i) const {
  const int64_t start = v_.offsets[i];
  return {v_.ids.data + start, nullptr, v_.trained.data + start, length(i)};
}

Example TokenizedData::example(size_t i) const {
  const TokenRow r = row(i);
  Example ex;
  ex.input_ids.assign(r.ids, r.ids + r.size);
  for (int64_t t = 0; t < r.size; ++t) ex.labels.push_back(static_cast<int>(r.label(t)));
  ex.file = file(i);
  ex.line = line(i);
  ex.truncated = truncated(i);
  return ex;
}

std::vector<Example> TokenizedData::examples() const {
  std::vector<Example> out;
  out.reserve(size());
  for (size_t i = 0; i < size(); ++i) out.push_back(example(i));
  return out;
}

}  // namespace st
