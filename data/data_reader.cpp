// data/data_reader.cpp — chunked, multi-threaded tokenization of mapped JSONL files, joined in order.
#include "data/data_reader.h"

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <exception>
#include <optional>
#include <thread>

#include "common/check.h"
#include "common/files.h"
#include "common/sha256.h"
#include "common/stop_signal.h"
#include "common/tokens.h"
#include "data/token_cache.h"

namespace st {
namespace {
using json = nlohmann::json;

constexpr size_t kMaxSkippedShown = 20;

struct Chunk {
  uint32_t file;
  size_t begin, end;  // bytes of the mapping; begin is a line start, end just past a '\n' (or the file end)
};

struct LineProblem {
  int64_t line;  // within the chunk, 1-based
  std::string reason;
};

struct ChunkResult {
  TokenArrays arrays;  // lines relative to the chunk
  DataStats stats;     // counts only; `skipped` is rebuilt from `problems` when joined
  std::vector<LineProblem> problems;  // under skip: the first few; under error: the one that stops the read
  int64_t line_count = 0;
  std::exception_ptr failure;  // anything else (a stop request, a template the tokenizer cannot write)
};

std::string sha256_of_mapping(const MappedFile& file) {
  Sha256 hash;
  constexpr uint64_t kPiece = uint64_t{64} << 20;
  for (uint64_t at = 0; at < file.size(); at += kPiece) {
    check_stop("hashing the training data");
    hash.update(file.data() + at, static_cast<size_t>(std::min(kPiece, file.size() - at)));
  }
  return hash.hex_digest();
}

std::vector<Chunk> line_aligned_chunks(const MappedFile& file, uint32_t index, size_t chunk_bytes) {
  std::vector<Chunk> chunks;
  const char* data = reinterpret_cast<const char*>(file.data());
  const size_t size = static_cast<size_t>(file.size());
  for (size_t begin = 0; begin < size;) {
    size_t end = std::min(size, begin + std::max<size_t>(chunk_bytes, 1));
    if (end < size) {
      const void* newline = std::memchr(data + end - 1, '\n', size - (end - 1));
      end = newline ? static_cast<size_t>(static_cast<const char*>(newline) - data) + 1 : size;
    }
    chunks.push_back({index, begin, end});
    begin = end;
  }
  return chunks;
}

void tokenize_chunk(const char* data, const Chunk& chunk, const Tokenizer& tok, const DataOptions& o, ChunkResult& out) {
  check_stop("reading the training data");
  size_t at = chunk.begin;
  while (at < chunk.end) {
    const char* start = data + at;
    const void* newline = std::memchr(start, '\n', chunk.end - at);
    const size_t len = newline ? static_cast<size_t>(static_cast<const char*>(newline) - start) : chunk.end - at;
    at += len + 1;
    const int64_t line_no = ++out.line_count;
    std::string line(start, len);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines are not records
    ++out.stats.lines;
    LineOutcome outcome = tokenize_line(line, tok, o);
    if (outcome.kind == LineOutcome::Bad) {
      ++out.stats.skipped_bad_lines;
      if (out.problems.size() < kMaxSkippedShown) out.problems.push_back({line_no, std::move(outcome.error)});
      if (o.on_bad_line == OnBadLine::Error) return;
      continue;
    }
    if (outcome.kind == LineOutcome::Dropped) {
      ++out.stats.dropped_overlong;
      continue;
    }
    const auto& labels = outcome.example.labels;
    out.stats.truncated += outcome.example.truncated ? 1 : 0;
    out.stats.tokens += static_cast<int64_t>(labels.size());
    out.stats.loss_tokens += std::count_if(labels.begin() + 1, labels.end(), [](int l) { return l != kIgnoreIndex; });
    out.stats.formats[outcome.format] += 1;
    out.arrays.append(outcome.example, chunk.file, line_no);
  }
}

int thread_count(int setting, size_t chunks) {
  const int cores = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<int>(std::min<size_t>(chunks, static_cast<size_t>(setting > 0 ? setting : cores)));
}

// Every chunk tokenized; after the first chunk that fails or hits a bad line (under error), later chunks are
// not started: the join stops there anyway, and it is the same chunk whatever the thread count.
std::vector<ChunkResult> tokenize_chunks(const std::vector<std::shared_ptr<MappedFile>>& maps, const std::vector<Chunk>& chunks,
                                         const Tokenizer& tok, const DataOptions& o, int threads) {
  std::vector<ChunkResult> results(chunks.size());
  std::atomic<size_t> next{0}, first_stop{chunks.size()};
  auto work = [&] {
    for (size_t c; (c = next.fetch_add(1)) < chunks.size();) {
      if (c > first_stop.load()) continue;
      try {
        tokenize_chunk(reinterpret_cast<const char*>(maps[chunks[c].file]->data()), chunks[c], tok, o, results[c]);
        if (o.on_bad_line == OnBadLine::Skip || results[c].problems.empty()) continue;
      } catch (...) {
        results[c].failure = std::current_exception();
      }
      for (size_t seen = first_stop.load(); c < seen && !first_stop.compare_exchange_weak(seen, c);) {}
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  return results;
}

void add_counts(DataStats& into, const DataStats& more) {
  into.lines += more.lines;
  into.skipped_bad_lines += more.skipped_bad_lines;
  into.truncated += more.truncated;
  into.dropped_overlong += more.dropped_overlong;
  into.tokens += more.tokens;
  into.loss_tokens += more.loss_tokens;
  for (const auto& [format, n] : more.formats) into.formats[format] += n;
}

// Joins the chunk results in file order; the first failure or bad line (under error) in that order is the error.
TokenizedData join_chunks(std::vector<ChunkResult>& results, const std::vector<Chunk>& chunks,
                          const std::vector<std::string>& files, const DataOptions& o) {
  TokenArrays arrays;
  size_t examples = 0, tokens = 0;
  for (const auto& r : results) examples += r.arrays.size(), tokens += r.arrays.ids.size();
  arrays.reserve(examples, tokens);  // reserved, not touched: the join's peak is one copy plus a chunk
  DataStats stats;
  std::vector<int64_t> lines_before(files.size(), 0);
  for (size_t c = 0; c < results.size(); ++c) {
    ChunkResult& r = results[c];
    if (r.failure) std::rethrow_exception(r.failure);
    const std::string& file = files[chunks[c].file];
    int64_t& base = lines_before[chunks[c].file];
    for (const auto& p : r.problems) {
      const std::string where = fmt::format("{}:{}: {}", file, base + p.line, p.reason);
      ST_CHECK_INPUT(o.on_bad_line == OnBadLine::Skip, "{} (set data.on_bad_line=skip to skip such lines)", where);
      if (stats.skipped.size() < kMaxSkippedShown) stats.skipped.push_back(where);
    }
    arrays.append(r.arrays, /*file_offset=*/0, /*line_offset=*/base);
    add_counts(stats, r.stats);
    base += r.line_count;
    r = ChunkResult{};  // the join holds one copy of the tokens at a time
  }
  stats.examples = static_cast<int64_t>(arrays.size());
  ST_CHECK_INPUT(arrays.size() > 0, "{}: no usable examples ({} lines read, {} skipped, {} dropped as too long)",
                 fmt::join(files, ", "), stats.lines, stats.skipped_bad_lines, stats.dropped_overlong);
  return TokenizedData(std::move(arrays), files, std::move(stats));
}

TokenizedData tokenize_files(const std::vector<std::shared_ptr<MappedFile>>& maps, const std::vector<std::string>& files,
                             const Tokenizer& tok, const DataOptions& o, const ReadSettings& settings) {
  std::vector<Chunk> chunks;
  for (uint32_t f = 0; f < maps.size(); ++f) {
    auto more = line_aligned_chunks(*maps[f], f, settings.chunk_bytes);
    chunks.insert(chunks.end(), more.begin(), more.end());
  }
  auto results = tokenize_chunks(maps, chunks, tok, o, thread_count(settings.threads, chunks.size()));
  return join_chunks(results, chunks, files, o);
}

// The cache is a convenience: a failure to use it is said, and the run reads the data itself.
void try_save(const std::string& path, const std::string& key, const TokenizedData& data, std::string& written) {
  try {
    save_token_cache(path, key, data);
    written = path;
  } catch (const Error& e) {
    fmt::print(stderr, "warning: token cache not written ({}); later runs will tokenize again\n", e.what());
  }
}

}  // namespace

DataRead read_tokenized(const std::vector<std::string>& files, const Tokenizer& tok, const DataOptions& o,
                        const ReadSettings& settings) {
  const auto started = std::chrono::steady_clock::now();
  DataRead read;
  std::vector<std::shared_ptr<MappedFile>> maps;
  std::vector<std::string> hashes;
  for (const auto& file : files) {
    maps.push_back(MappedFile::open(file));
    hashes.push_back(sha256_of_mapping(*maps.back()));
    read.file_sha256[file] = hashes.back();
  }
  std::string key, path;
  if (!settings.cache_dir.empty()) {
    key = token_cache_key(hashes, settings.tokenizer_identity, o);
    path = token_cache_path(settings.cache_dir, key);
    std::string problem;
    if (auto cached = load_token_cache(path, key, files, problem)) {
      read.data = std::move(*cached);
      read.cache_file = path;
      read.cache_hit = true;
      mark_token_cache_used(path);
    } else if (!problem.empty()) {
      fmt::print(stderr, "warning: token cache {} not used ({}); tokenizing again\n", path, problem);
    }
  }
  if (!read.cache_hit) {
    read.data = tokenize_files(maps, files, tok, o, settings);
    if (!path.empty()) try_save(path, key, read.data, read.cache_file);
    if (!read.cache_file.empty()) read.cache_evicted = evict_token_caches(settings.cache_dir, settings.cache_max_bytes, path);
  }
  read.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return read;
}

std::vector<Example> read_examples(const std::vector<std::string>& files, const Tokenizer& tok, const DataOptions& o,
                                   DataStats& stats) {
  DataRead read = read_tokenized(files, tok, o, {});
  stats = read.data.stats();
  return read.data.examples();
}

json DataRead::summary() const {
  return {{"cache", cache_file.empty() ? json(nullptr) : json(cache_file)},
          {"cache_hit", cache_hit},
          {"cache_evicted", cache_evicted},
          {"seconds", seconds}};
}

std::string DataRead::describe() const {
  const std::string source = cache_hit              ? "read from the token cache " + cache_file
                             : cache_file.empty()   ? "tokenized, not cached"
                                                    : "tokenized, cached in " + cache_file;
  const std::string evicted = cache_evicted.empty() ? "" : fmt::format("; {} least recently used cache files removed to keep the folder under data.cache_max_gb", cache_evicted.size());
  return fmt::format("{} examples, {} tokens in {:.1f} s ({}{})", data.size(), data.tokens(), seconds, source, evicted);
}

json stats_to_json(const DataStats& s) {
  return {{"lines", s.lines},         {"examples", s.examples},       {"skipped_bad_lines", s.skipped_bad_lines},
          {"skipped", s.skipped},     {"truncated", s.truncated},     {"dropped_overlong", s.dropped_overlong},
          {"tokens", s.tokens},       {"loss_tokens", s.loss_tokens}, {"formats", s.formats}};
}

DataStats stats_from_json(const json& j) {
  DataStats s;
  s.lines = j.at("lines").get<int64_t>();
  s.examples = j.at("examples").get<int64_t>();
  s.skipped_bad_lines = j.at("skipped_bad_lines").get<int64_t>();
  s.skipped = j.at("skipped").get<std::vector<std::string>>();
  s.truncated = j.at("truncated").get<int64_t>();
  s.dropped_overlong = j.at("dropped_overlong").get<int64_t>();
  s.tokens = j.at("tokens").get<int64_t>();
  s.loss_tokens = j.at("loss_tokens").get<int64_t>();
  s.formats = j.at("formats").get<std::map<std::string, int64_t>>();
  return s;
}

}  // namespace st
