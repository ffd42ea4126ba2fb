// trainer/text_scorer.cpp — the classifier folder's tokenizer wired into a TextScorer.
#include "trainer/text_scorer.h"

#include <filesystem>

#include "common/check.h"
#include "common/files.h"
#include "trainer/eval/lm_judge.h"

namespace st {
std::vector<int> encode_for_classifier(const Tokenizer& tok, const std::string& text, int64_t max_len, bool* truncated) {
  auto ids = tok.encode(text, /*add_bos=*/false, /*add_eos=*/true);
  if (static_cast<int64_t>(ids.size()) > max_len) {
    ids.resize(static_cast<size_t>(max_len));
    if (truncated) *truncated = true;
  }
  return ids;
}

void check_classifier_tokenizer(const std::string& classifier_dir) {
  const auto config = ClassifierConfig::from_file((std::filesystem::path(classifier_dir) / "config.json").string());
  const std::string actual = vocabulary_sha256(classifier_dir);
  ST_CHECK_INPUT(config.tokenizer_sha256.empty() || config.tokenizer_sha256 == actual,
                 "{}: the tokenizer in this folder (SHA-256 {}) is not the one the classifier was trained with "
                 "(config.json safetune_classifier.tokenizer_sha256 {}); restore the original tokenizer file",
                 classifier_dir, actual.substr(0, 12), config.tokenizer_sha256.substr(0, 12));
}

std::unique_ptr<TextScorer> open_text_scorer(const std::string& classifier_dir, torch::Device device) {
  check_classifier_tokenizer(classifier_dir);
  std::shared_ptr<const Tokenizer> tokenizer = open_tokenizer(classifier_dir);
  const int pad_id = tokenizer->pad_id();
  TextEncoder encode = [tokenizer](const std::string& text, int64_t max_len) {
    return encode_for_classifier(*tokenizer, text, max_len, nullptr);
  };
  return std::make_unique<ClassifierScorer>(load_classifier(classifier_dir, device), std::move(encode), pad_id,
                                            folder_name(classifier_dir));
}

ScorerSource penalty_scorer_source(const std::string& classifier_dir, const JudgeConfig& harm_judge) {
  if (!classifier_dir.empty()) return ScorerSource::Classifier;
  return harm_judge.model.empty() ? ScorerSource::None : ScorerSource::HarmJudge;
}

ScorerSource eval_scorer_source(const std::string& classifier_dir, const JudgeConfig& harm_judge) {
  if (!harm_judge.model.empty()) return ScorerSource::HarmJudge;
  return classifier_dir.empty() ? ScorerSource::None : ScorerSource::Classifier;
}

std::unique_ptr<TextScorer> open_scorer(ScorerSource source, const std::string& classifier_dir, const JudgeConfig& harm_judge,
                                        torch::Device device) {
  switch (source) {
    case ScorerSource::Classifier: return open_text_scorer(classifier_dir, device);
    case ScorerSource::HarmJudge: return make_harm_judge(harm_judge, device);
    case ScorerSource::None: return nullptr;
  }
  return nullptr;
}

std::unique_ptr<TextScorer> open_eval_scorer(const std::string& classifier_dir, const JudgeConfig& harm_judge, torch::Device device) {
  return open_scorer(eval_scorer_source(classifier_dir, harm_judge), classifier_dir, harm_judge, device);
}

}  // namespace st
