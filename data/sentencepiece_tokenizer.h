// data/sentencepiece_tokenizer.h — the SentencePiece implementation of the Tokenizer interface
// (tokenizer.model, as Llama 1/2, TinyLlama and Mistral ship it). Not a tokenizer.json reader.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "data/tokenizer.h"

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace st {

class SentencePieceTokenizer final : public Tokenizer {
 public:
  // Loads a sentencepiece model file; a missing or invalid file is exit 2 naming the path.
  explicit SentencePieceTokenizer(const std::string& model_path);
  ~SentencePieceTokenizer() override;

  std::string decode(const std::vector<int>& ids) const override;
  int vocab_size() const override;
  int bos_id() const override { return bos_id_; }
  int eos_id() const override { return eos_id_; }
  int pad_id() const override { return pad_id_; }
  int unk_id() const override;
  std::string piece(int id) const override;
  const char* format() const override { return "sentencepiece"; }
  const std::string& path() const override { return path_; }

 protected:
  std::vector<int> encode_text(const std::string& text, bool add_bos, bool add_eos) const override;

 private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  std::string path_;
  int bos_id_ = -1, eos_id_ = -1, pad_id_ = -1;
};

// The registry entry (data/tokenizer.cpp lists it): a folder holding tokenizer.model, or a loose *.model.
TokenizerFormat sentencepiece_format();

}  // namespace st
