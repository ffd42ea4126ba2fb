// data/tokenizer.h — the sentencepiece tokenizer of a model folder (tokenizer.model).
//
// Special tokens, stated rather than guessed:
//  * encode() never adds BOS or EOS unless asked; the chat template decides (BOS once at the start of a
//    sequence, EOS after each response, as Llama-2 chat does and transformers' LlamaTokenizer with
//    add_bos_token=True, add_eos_token=False).
//  * Text is always literal: "<s>" written in data is encoded as characters, never as the BOS token, so
//    user data cannot inject control tokens.
//  * bos_id()/eos_id() come from the model file; a model without them is rejected when loaded.
//  * pad_id() is the model's own pad piece when it has one, otherwise eos_id(). Padding sits only at
//    the right end of a sequence, is masked out of every loss, and causal attention never lets a real
//    token see it, so its id never changes a result.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}

namespace st {

class Tokenizer {
 public:
  // Loads a sentencepiece model file; a missing or invalid file is exit 2 naming the path.
  explicit Tokenizer(const std::string& model_path);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  std::vector<int> encode(const std::string& text, bool add_bos = false, bool add_eos = false) const;
  std::string decode(const std::vector<int>& ids) const;  // special tokens are dropped

  int vocab_size() const;
  int bos_id() const { return bos_id_; }
  int eos_id() const { return eos_id_; }
  int pad_id() const { return pad_id_; }
  int unk_id() const;
  std::string piece(int id) const;
  const std::string& path() const { return path_; }
  // Serialized model bytes; their hash identifies the vocabulary (the classifier must share it).
  std::string serialized_model() const;

 private:
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
  std::string path_;
  int bos_id_ = -1, eos_id_ = -1, pad_id_ = -1;
};

}  // namespace st
