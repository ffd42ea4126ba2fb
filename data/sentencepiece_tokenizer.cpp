// data/sentencepiece_tokenizer.cpp — thin, checked wrapper over sentencepiece::SentencePieceProcessor.
#include "data/sentencepiece_tokenizer.h"

#include <sentencepiece_processor.h>

#include <filesystem>

#include "common/check.h"

namespace st {

SentencePieceTokenizer::SentencePieceTokenizer(const std::string& model_path)
    : sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()), path_(model_path) {
  ST_CHECK_INPUT(std::filesystem::is_regular_file(model_path), "{}: no such tokenizer file", model_path);
  const auto status = sp_->Load(model_path);
  ST_CHECK_INPUT(status.ok(), "{}: not a sentencepiece model: {}", model_path, status.ToString());
  bos_id_ = sp_->bos_id();
  eos_id_ = sp_->eos_id();
  ST_CHECK_INPUT(bos_id_ >= 0 && eos_id_ >= 0,
                 "{}: tokenizer must define BOS and EOS pieces (bos_id={}, eos_id={}); train it with "
                 "--bos_id and --eos_id set", model_path, bos_id_, eos_id_);
  pad_id_ = sp_->pad_id() >= 0 ? sp_->pad_id() : eos_id_;
}

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

std::vector<int> SentencePieceTokenizer::encode_text(const std::string& text, bool add_bos, bool add_eos) const {
  std::vector<int> ids;
  const auto status = sp_->Encode(text, &ids);
  ST_CHECK_INPUT(status.ok(), "{}: cannot encode text: {}", path_, status.ToString());
  if (add_bos) ids.insert(ids.begin(), bos_id_);
  if (add_eos) ids.push_back(eos_id_);
  return ids;
}

std::string SentencePieceTokenizer::decode(const std::vector<int>& ids) const {
  std::string text;
  const auto status = sp_->Decode(ids, &text);
  ST_CHECK_INPUT(status.ok(), "{}: cannot decode ids: {}", path_, status.ToString());
  return text;
}

int SentencePieceTokenizer::vocab_size() const { return sp_->GetPieceSize(); }
int SentencePieceTokenizer::unk_id() const { return sp_->unk_id(); }
std::string SentencePieceTokenizer::piece(int id) const { return sp_->IdToPiece(id); }

TokenizerFormat sentencepiece_format() {
  return {"sentencepiece", {"tokenizer.model"}, ".model",
          [](const std::string& file) -> std::unique_ptr<Tokenizer> { return std::make_unique<SentencePieceTokenizer>(file); }};
}

}  // namespace st
