// data/tokenizer.h — the tokenizer interface, the registry of tokenizer formats a model folder may hold,
// and the folder-level helpers (open, list the files to copy, identify the vocabulary). Implementations
// live in their own files (data/sentencepiece_tokenizer.h); nothing here names a file format.
//
// Special tokens, stated rather than guessed (every implementation keeps these rules):
//  * encode() never adds BOS or EOS unless asked; the chat template decides (BOS once at the start of a
//    sequence, EOS after each response, as Llama-2 chat does and transformers' LlamaTokenizer with
//    add_bos_token=True, add_eos_token=False).
//  * Text is always literal: "<s>" written in data is encoded as characters, never as the BOS token, so
//    user data cannot inject control tokens.
//  * bos_id()/eos_id() come from the tokenizer's files. A tokenizer without EOS is rejected when loaded; one
//    without BOS (Qwen2's) has bos_id() -1, and a chat template that writes BOS is then exit 2.
//  * pad_id() is the tokenizer's own pad token when it has one, otherwise eos_id(). Padding sits only at
//    the right end of a sequence, is masked out of every loss, and causal attention never lets a real
//    token see it, so its id never changes a result.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/files.h"

namespace st {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Non-virtual so that the defaults are stated once, here (defaults on virtuals bind statically).
  std::vector<int> encode(const std::string& text, bool add_bos = false, bool add_eos = false) const {
    return encode_text(text, add_bos, add_eos);
  }
  virtual std::string decode(const std::vector<int>& ids) const = 0;  // special tokens are dropped

  virtual int vocab_size() const = 0;
  virtual int bos_id() const = 0;
  virtual int eos_id() const = 0;
  virtual int pad_id() const = 0;
  virtual int unk_id() const = 0;  // -1 when the vocabulary has none
  virtual std::string piece(int id) const = 0;
  // The id of a control token the vocabulary defines as a whole (chatml's "<|im_start|>"), for chat
  // templates; nullopt when it has none (the template then writes the marker as text).
  virtual std::optional<int> control_token_id(const std::string& text) const { return std::nullopt; }
  virtual const char* format() const = 0;         // the registered format name, e.g. "sentencepiece"
  virtual const std::string& path() const = 0;    // the file it was read from (for messages)

 protected:
  virtual std::vector<int> encode_text(const std::string& text, bool add_bos, bool add_eos) const = 0;
};

// One way a model folder can hold a tokenizer. Adding a format is one implementation file plus one line
// in tokenizer_formats() (data/tokenizer.cpp).
struct TokenizerFormat {
  const char* name;                 // "sentencepiece"
  std::vector<std::string> files;   // all present in a folder = this format; files[0] holds the vocabulary
  std::string loose_extension;      // a single file with this extension may be given instead of a folder
  std::function<std::unique_ptr<Tokenizer>(const std::string& vocabulary_file)> open;
};

// Registered formats, in the order a folder is matched against them (the first whose files exist wins).
const std::vector<TokenizerFormat>& tokenizer_formats();

// The format of `path` (a folder, or a loose tokenizer file such as the tokenizer.model that
// `classifier.tokenizer` names), and the file its vocabulary is read from; nullptr when none matches.
struct TokenizerSource {
  const TokenizerFormat* format = nullptr;
  std::string vocabulary_file;
};
TokenizerSource find_tokenizer(const std::string& path);

// Opens the tokenizer of a model folder (or a loose tokenizer file). None there is exit 2 naming the
// path and the files looked for; a broken file is exit 2 from the format, naming the file.
std::unique_ptr<Tokenizer> open_tokenizer(const std::string& path);

// The Hugging Face tokenizer files of a folder that exist (tokenizer.model, tokenizer.json,
// tokenizer_config.json, special_tokens_map.json, added_tokens.json, ...), each to be copied under its own
// name: what checkpoints, final/ and classifier folders carry so that transformers loads them. For a loose
// tokenizer file, that file, named as its format's file (a "spm.model" is copied as tokenizer.model).
std::vector<NamedFile> tokenizer_files(const std::string& path);

// The identity of a vocabulary: the SHA-256 (hex) of the bytes of the file the tokenizer reads its
// vocabulary from (tokenizer.model for sentencepiece). Deliberately not of tokenizer_config.json and the
// like: a new chat template or flag does not change which id is which piece, and the soft penalty only
// needs the ids to agree. For sentencepiece this equals the `tokenizer_sha256` classifier folders have
// always recorded (the hash of tokenizer.model), so those folders keep loading. Exit 2 when `path` holds
// no tokenizer.
std::string vocabulary_sha256(const std::string& path);

// The identity of everything that turns text into ids: SHA-256 over the name and SHA-256 of each of
// tokenizer_files(path). Unlike vocabulary_sha256 it changes with tokenizer_config.json (its chat template,
// its flags): what the token cache must be keyed by.
std::string tokenizer_files_sha256(const std::string& path);

}  // namespace st
