// data/hf_tokenizer.h — the Hugging Face tokenizer.json implementation of the Tokenizer interface (the
// format of Llama 3, Qwen2, SmolLM2 and every fast tokenizer), proven id-for-id against the `tokenizers`
// package (tests/data/hf_tokenizer_test.cpp). BPE models only; other models or components are exit 2 by name.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "data/hf_bpe.h"
#include "data/hf_pipeline.h"
#include "data/tokenizer.h"

namespace st {

class HfTokenizer final : public Tokenizer {
 public:
  // Reads tokenizer.json, and tokenizer_config.json beside it when present (which tokens are BOS, EOS, pad).
  explicit HfTokenizer(const std::string& json_path);
  ~HfTokenizer() override;

  // The whole pipeline as `tokenizers` runs encode(): added tokens cut out of the text first (special ones
  // only when `match_special`; Tokenizer::encode never matches them, so data cannot inject control tokens),
  // normalizer, pre-tokenizer, BPE, then the post-processor's tokens when `add_special_tokens`.
  std::vector<int> encode_pipeline(const std::string& text, bool match_special, bool add_special_tokens) const;
  // The decoder over every id's piece; special added tokens are left out when `skip_special`.
  std::string decode_pipeline(const std::vector<int>& ids, bool skip_special) const;
  // The id of an added token's text (e.g. "<|im_end|>"), for chat templates that write them.
  std::optional<int> added_token_id(const std::string& content) const;

  std::string decode(const std::vector<int>& ids) const override { return decode_pipeline(ids, /*skip_special=*/true); }
  int vocab_size() const override { return static_cast<int>(pieces_.size()); }
  int bos_id() const override { return bos_id_; }
  int eos_id() const override { return eos_id_; }
  int pad_id() const override { return pad_id_ >= 0 ? pad_id_ : eos_id_; }
  int unk_id() const override { return unk_id_; }
  std::string piece(int id) const override;
  std::optional<int> control_token_id(const std::string& text) const override { return added_token_id(text); }
  const char* format() const override { return "tokenizer.json"; }
  const std::string& path() const override { return path_; }

 protected:
  std::vector<int> encode_text(const std::string& text, bool add_bos, bool add_eos) const override;

 private:
  struct AddedToken {
    std::string content;
    int id;
    bool special, lstrip, rstrip, single_word, normalized;
  };
  void read_added_tokens(const nlohmann::json& list);
  void read_post_processor(const nlohmann::json& spec);
  void read_special_token_ids(const std::string& config_path);
  std::vector<hf::Split> cut_added_tokens(const std::vector<hf::Split>& splits, bool normalized, bool match_special) const;

  std::string path_;
  std::vector<AddedToken> added_;
  std::vector<std::vector<const AddedToken*>> by_first_byte_;  // [256]: the candidates at a position
  std::unique_ptr<hf::Normalizer> normalizer_;
  std::unique_ptr<hf::PreTokenizer> pre_tokenizer_;
  std::unique_ptr<hf::BpeModel> model_;
  std::unique_ptr<hf::Decoder> decoder_;
  std::vector<int> prefix_ids_, suffix_ids_;  // what the post-processor puts around a single sequence
  std::vector<std::string> pieces_;           // id -> piece
  std::vector<bool> special_;                 // id -> is a special added token
  int bos_id_ = -1, eos_id_ = -1, pad_id_ = -1, unk_id_ = -1;
};

// The registry entry (data/tokenizer.cpp lists it): a folder holding tokenizer.json.
TokenizerFormat hf_tokenizer_format();

}  // namespace st
