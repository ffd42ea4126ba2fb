// data/tokenized_data.h — tokenized examples in flat arrays (ids, labels, row offsets, provenance), either
// owned in memory or viewed from a memory-mapped token cache; the batcher reads rows from here without copying.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/tokens.h"
#include "data/examples.h"

namespace st {

class MappedFile;

// One example's tokens as views; valid while what it views lives. The loss positions come either as labels
// (an Example's) or as a mask (the flat arrays': a label is always its input id or ignored, so one byte does).
struct TokenRow {
  const int32_t* ids = nullptr;
  const int32_t* labels = nullptr;  // input id where the loss applies, kIgnoreIndex elsewhere (unshifted)
  const uint8_t* trained = nullptr;  // or: 1 where the loss applies
  int64_t size = 0;
  int64_t label(int64_t t) const { return labels ? labels[t] : trained[t] ? ids[t] : kIgnoreIndex; }
};
TokenRow row_of(const Example& example);

// The arrays as built by the reader and as laid out in a cache file.
struct TokenArrays {
  std::vector<int64_t> offsets{0};  // [n + 1]: example i is tokens [offsets[i], offsets[i + 1])
  std::vector<int32_t> ids;          // [tokens]
  std::vector<uint8_t> trained;      // [tokens] 1 where the loss applies
  std::vector<int64_t> lines;        // [n] 1-based line in its file
  std::vector<uint32_t> files;       // [n] index into the file list
  std::vector<uint8_t> truncated;    // [n] 1 = cut to max_seq_len

  void append(const Example& example, uint32_t file_index, int64_t line);
  void append(const TokenArrays& more, uint32_t file_offset, int64_t line_offset);  // rebased
  void reserve(size_t examples, size_t tokens);
  size_t size() const { return lines.size(); }
};

template <typename T>
struct ArrayView {
  const T* data = nullptr;
  size_t size = 0;
  const T& operator[](size_t i) const { return data[i]; }
};

class TokenizedData {
 public:
  TokenizedData() = default;
  // Owns `arrays`; `files` are the data files in the order file indices refer to.
  TokenizedData(TokenArrays arrays, std::vector<std::string> files, DataStats stats);
  // Views a mapping; the caller has checked every bound (data/token_cache.cpp).
  struct Views {
    ArrayView<int64_t> offsets, lines;
    ArrayView<int32_t> ids;
    ArrayView<uint8_t> trained;
    ArrayView<uint32_t> files;
    ArrayView<uint8_t> truncated;
  };
  TokenizedData(std::shared_ptr<const MappedFile> mapping, const Views& views, std::vector<std::string> files, DataStats stats);

  size_t size() const { return v_.lines.size; }
  bool empty() const { return size() == 0; }
  TokenRow row(size_t i) const;
  int64_t length(size_t i) const { return v_.offsets[i + 1] - v_.offsets[i]; }
  const std::string& file(size_t i) const { return files_[v_.files[i]]; }
  int64_t line(size_t i) const { return v_.lines[i]; }
  bool truncated(size_t i) const { return v_.truncated[i] != 0; }
  int64_t tokens() const { return v_.offsets[size()]; }
  const Views& views() const { return v_; }
  const std::vector<std::string>& files() const { return files_; }
  const DataStats& stats() const { return stats_; }

  Example example(size_t i) const;  // a copy, for code that wants the struct
  std::vector<Example> examples() const;

 private:
  std::shared_ptr<TokenArrays> owned_;
  std::shared_ptr<const MappedFile> mapping_;
  Views v_;
  std::vector<std::string> files_;
  DataStats stats_;
};

}  // namespace st
