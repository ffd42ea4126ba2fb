// data/hf_bpe.cpp — BPE as models/bpe/{model,word}.rs of the `tokenizers` crate does it: symbols per
// character, then the lowest-ranked adjacent pair merged (leftmost on ties) until none is left.
#include "data/hf_bpe.h"

#include <fmt/format.h>

#include <limits>

#include "common/check.h"
#include "common/json_file.h"
#include "data/hf_text.h"

namespace st::hf {
using json = nlohmann::json;

namespace {
uint64_t pair_key(int left, int right) { return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right); }

std::optional<std::string> optional_text(const json& model, const char* key, const std::string& where) {
  if (!model.contains(key) || model[key].is_null()) return std::nullopt;
  ST_CHECK_INPUT(model[key].is_string(), "{}: model.{} must be a string or null, got {}", where, key, json_excerpt(model[key]));
  return model[key].get<std::string>();
}

bool optional_flag(const json& model, const char* key, const std::string& where) {
  if (!model.contains(key) || model[key].is_null()) return false;
  ST_CHECK_INPUT(model[key].is_boolean(), "{}: model.{} must be true or false, got {}", where, key, json_excerpt(model[key]));
  return model[key].get<bool>();
}
}  // namespace

BpeModel::BpeModel(const json& model, const std::string& where) {
  ST_CHECK_INPUT(model.is_object() && model.contains("type") && model["type"].is_string(), "{}: \"model\" must be an object "
                 "with a \"type\"", where);
  const std::string type = model["type"];
  ST_CHECK_INPUT(type == "BPE", "{}: model type '{}' is not supported (supported: BPE)", where, type);
  ST_CHECK_INPUT(!model.contains("dropout") || model["dropout"].is_null() || model["dropout"] == 0.0,
                 "{}: model.dropout is not supported (it makes encoding random)", where);
  ST_CHECK_INPUT(model.contains("vocab") && model["vocab"].is_object(), "{}: model.vocab must be an object", where);
  for (const auto& [piece, id] : model["vocab"].items()) {
    ST_CHECK_INPUT(id.is_number_unsigned() && id.get<double>() < (1 << 24), "{}: model.vocab['{}'] must be an id, got {}",
                   where, text_excerpt(piece), json_excerpt(id));
    vocab_[piece] = id.get<int>();
  }
  prefix_ = optional_text(model, "continuing_subword_prefix", where).value_or("");
  suffix_ = optional_text(model, "end_of_word_suffix", where).value_or("");
  if (const auto unk = optional_text(model, "unk_token", where)) {
    unk_id_ = id_of(*unk);
    ST_CHECK_INPUT(unk_id_.has_value(), "{}: model.unk_token '{}' is not in the vocabulary", where, *unk);
  }
  fuse_unk_ = optional_flag(model, "fuse_unk", where);
  byte_fallback_ = optional_flag(model, "byte_fallback", where);
  ignore_merges_ = optional_flag(model, "ignore_merges", where);
  for (int b = 0; b < 256; ++b) byte_ids_[b] = id_of(fmt::format("<0x{:02X}>", b)).value_or(-1);
  ST_CHECK_INPUT(model.contains("merges") && model["merges"].is_array(), "{}: model.merges must be a list", where);
  read_merges(model["merges"], where);
}

// "a b" strings or ["a", "b"] pairs; the rank is the position, and a pair listed twice keeps the later one.
void BpeModel::read_merges(const json& merges, const std::string& where) {
  int rank = 0;
  for (const auto& m : merges) {
    std::string left, right;
    if (m.is_string()) {
      const std::string line = m.get<std::string>();
      const auto space = line.find(' ');
      ST_CHECK_INPUT(space != std::string::npos && line.find(' ', space + 1) == std::string::npos,
                     "{}: merge {} is not two pieces separated by one space", where, json_excerpt(m));
      left = line.substr(0, space), right = line.substr(space + 1);
    } else {
      ST_CHECK_INPUT(m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string(),
                     "{}: merge {} must be \"a b\" or [\"a\", \"b\"]", where, json_excerpt(m));
      left = m[0], right = m[1];
    }
    const auto l = id_of(left), r = id_of(right);
    const auto merged = id_of(left + right.substr(std::min(prefix_.size(), right.size())));
    ST_CHECK_INPUT(l && r && merged, "{}: merge {} names a piece that is not in the vocabulary", where, json_excerpt(m));
    merges_[pair_key(*l, *r)] = {rank++, *merged};
  }
}

std::optional<int> BpeModel::id_of(const std::string& piece) const {
  const auto it = vocab_.find(piece);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

// One character (with its prefix or suffix) as symbols: its piece, else its bytes' <0xHH> pieces, else a
// pending unknown (extended when fused), else nothing at all.
void BpeModel::add_char(const std::string& key, std::vector<int>& symbols, std::optional<size_t>& unk_bytes) const {
  if (const auto id = id_of(key)) {
    if (unk_bytes) symbols.push_back(*unk_id_), unk_bytes.reset();
    symbols.push_back(*id);
    return;
  }
  if (byte_fallback_) {
    bool all = true;
    for (unsigned char b : key) all = all && byte_ids_[b] >= 0;
    if (all) {  // as the crate does, a pending unknown is not emitted first
      for (unsigned char b : key) symbols.push_back(byte_ids_[b]);
      return;
    }
  }
  if (!unk_id_) return;
  if (unk_bytes && !fuse_unk_) symbols.push_back(*unk_id_);
  unk_bytes = (unk_bytes && fuse_unk_ ? *unk_bytes : 0) + key.size();
}

// Repeatedly merges the adjacent pair of lowest rank (leftmost among equals).
void BpeModel::merge(std::vector<int>& symbols) const {
  while (symbols.size() > 1) {
    int best_rank = std::numeric_limits<int>::max(), best_merged = -1;
    size_t best = 0;
    for (size_t i = 0; i + 1 < symbols.size(); ++i) {
      const auto it = merges_.find(pair_key(symbols[i], symbols[i + 1]));
      if (it != merges_.end() && it->second.rank < best_rank) best_rank = it->second.rank, best_merged = it->second.merged, best = i;
    }
    if (best_merged < 0) return;
    symbols[best] = best_merged;
    symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(best) + 1);
  }
}

void BpeModel::tokenize(const std::string& word, std::vector<int>& out) const {
  if (word.empty()) return;
  if (ignore_merges_)
    if (const auto id = id_of(word)) {
      out.push_back(*id);
      return;
    }
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (const auto it = cache_.find(word); it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int> symbols;
  std::optional<size_t> unk_bytes;
  for (size_t i = 0; i < word.size();) {
    const size_t begin = i;
    next_code_point(word, i);
    std::string key = (begin > 0 ? prefix_ : std::string()) + word.substr(begin, i - begin) + (i == word.size() ? suffix_ : std::string());
    add_char(key, symbols, unk_bytes);
  }
  if (unk_bytes) symbols.push_back(*unk_id_);
  merge(symbols);
  out.insert(out.end(), symbols.begin(), symbols.end());
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() >= 100000) cache_.clear();
  cache_.emplace(word, std::move(symbols));
}

}  // namespace st::hf
