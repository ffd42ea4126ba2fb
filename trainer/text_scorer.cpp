// trainer/text_scorer.cpp — the classifier folder's tokenizer wired into a TextScorer.
#include "trainer/text_scorer.h"

namespace st {
std::vector<int> encode_for_classifier(const Tokenizer& tok, const std::string& text, int64_t max_len, bool* truncated) {
  auto ids = tok.encode(text, /*add_bos=*/false, /*add_eos=*/true);
  if (static_cast<int64_t>(ids.size()) > max_len) {
    ids.resize(static_cast<size_t>(max_len));
    if (truncated) *truncated = true;
  }
  return ids;
}

std::unique_ptr<TextScorer> open_text_scorer(const std::string& classifier_dir, torch::Device device) {
  std::shared_ptr<const Tokenizer> tokenizer = open_tokenizer(classifier_dir);
  const int pad_id = tokenizer->pad_id();
  TextEncoder encode = [tokenizer](const std::string& text, int64_t max_len) {
    return encode_for_classifier(*tokenizer, text, max_len, nullptr);
  };
  return std::make_unique<TextScorer>(load_classifier(classifier_dir, device), std::move(encode), pad_id);
}

}  // namespace st
