// data/hf_pipeline.h — the components of a Hugging Face tokenizer.json pipeline other than the model:
// normalizers, pre-tokenizers and decoders, each built from its JSON by a registry keyed on "type". A
// component safetune does not implement is exit 2 naming it (a new one is a class plus a registry line).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace st::hf {

// A piece of the input on its way through the pipeline.
struct Split {
  std::string text;
  bool at_start = false;  // begins at offset 0 of the input (Metaspace's prepend_scheme "first")
  int token = -1;         // an added token's id: it passes every stage untouched
};

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual std::string normalize(const std::string& text) const = 0;
};

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces each split (that is not an added token) by its pieces, dropping empty ones.
  virtual void split(std::vector<Split>& splits) const = 0;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Rewrites the list of token strings; the caller joins what is left.
  virtual void decode(std::vector<std::string>& tokens) const = 0;
};

// Each takes the component's JSON (null: none) and `where` (the file, for messages).
std::unique_ptr<Normalizer> make_normalizer(const nlohmann::json& spec, const std::string& where);
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const nlohmann::json& spec, const std::string& where);
std::unique_ptr<Decoder> make_decoder(const nlohmann::json& spec, const std::string& where);

// Unicode White_Space, as the `tokenizers` crate's \s and lstrip/rstrip use it.
bool is_white_space(char32_t c);

// UTF-8 decoding that replaces each maximal invalid subsequence by U+FFFD, as Rust's from_utf8_lossy.
std::string utf8_lossy(const std::string& bytes);

}  // namespace st::hf
