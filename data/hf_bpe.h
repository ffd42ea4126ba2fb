// data/hf_bpe.h — the BPE model of tokenizer.json: a vocabulary, ranked merges, and the rules for what has
// no piece (byte fallback to <0xHH>, an unknown token, fused or not, or nothing), as the `tokenizers` crate
// applies them to one pre-token.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace st::hf {

class BpeModel {
 public:
  // `model` is tokenizer.json's "model" object; anything other than BPE is exit 2 naming its type.
  BpeModel(const nlohmann::json& model, const std::string& where);

  // The ids of one pre-token (empty: none).
  void tokenize(const std::string& word, std::vector<int>& out) const;

  std::optional<int> id_of(const std::string& piece) const;
  const std::unordered_map<std::string, int>& vocab() const { return vocab_; }

 private:
  void read_merges(const nlohmann::json& merges, const std::string& where);
  void add_char(const std::string& key, std::vector<int>& symbols, std::optional<size_t>& unk_bytes) const;
  void merge(std::vector<int>& symbols) const;

  struct Merge {
    int rank;
    int merged;
  };
  std::unordered_map<std::string, int> vocab_;
  std::unordered_map<uint64_t, Merge> merges_;  // key: (left id << 32) | right id
  std::optional<int> unk_id_;
  std::string prefix_, suffix_;  // continuing_subword_prefix, end_of_word_suffix
  bool fuse_unk_ = false, byte_fallback_ = false, ignore_merges_ = false;
  int byte_ids_[256];  // <0xHH> pieces, -1 where absent
  // Words seen before (text repeats its words): their ids, cleared when it grows past a bound. A mutex keeps
  // encode() safe to call from several threads.
  mutable std::unordered_map<std::string, std::vector<int>> cache_;
  mutable std::mutex cache_mutex_;
};

}  // namespace st::hf
