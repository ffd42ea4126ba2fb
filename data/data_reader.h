// data/data_reader.h — JSONL training files to TokenizedData: each file memory-mapped and hashed once, cut
// into chunks at line ends, the chunks tokenized on all cores and joined in file order (the result is the
// same whatever the thread count), and the result kept in a token cache that later runs and resumes map.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "data/tokenized_data.h"

namespace st {

struct ReadSettings {
  int threads = 0;                 // 0 = every core
  std::string cache_dir;           // "" = no cache
  uint64_t cache_max_bytes = 0;    // after writing to the cache, its least recently used files go until it fits; 0 = no limit
  std::string tokenizer_identity;  // what, besides the data and options, changes tokens (the cache key holds it)
  size_t chunk_bytes = size_t{1} << 20;  // the unit of work per thread (tests make it small)
};

struct DataRead {
  TokenizedData data;
  std::map<std::string, std::string> file_sha256;  // each data file's hash, as read for tokenizing
  std::string cache_file;  // the cache used or written ("" = none)
  bool cache_hit = false;
  std::vector<std::string> cache_evicted;  // older cache files removed to keep the folder under its limit
  double seconds = 0;
  nlohmann::json summary() const;  // for the manifest
  std::string describe() const;    // for the log: counts, seconds, where the tokens came from
};

// Reads every file in order. A malformed line is exit 2 naming file:line and the problem, unless
// on_bad_line = skip (then it is counted in the stats). No examples at all is also exit 2. A cache that
// cannot be read or written is said on stderr and the run goes on without it.
DataRead read_tokenized(const std::vector<std::string>& files, const Tokenizer& tokenizer, const DataOptions& options,
                        const ReadSettings& settings);

// The same as plain examples, without a cache (evaluation data, tests).
std::vector<Example> read_examples(const std::vector<std::string>& files, const Tokenizer& tokenizer,
                                   const DataOptions& options, DataStats& stats);

nlohmann::json stats_to_json(const DataStats& stats);
DataStats stats_from_json(const nlohmann::json& j);  // throws nlohmann's errors on a bad document

}  // namespace st
