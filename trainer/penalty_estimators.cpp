// trainer/penalty_estimators.cpp — one factory per EstimatorKind; a new estimator adds one line to kFactories.
#include "trainer/penalty_estimators.h"

#include "common/check.h"
#include "data/examples.h"
#include "losses/sampled_estimator.h"
#include "losses/soft_estimator.h"

namespace st {
namespace {

// The soft estimator feeds the classifier the model's expected embeddings, so both must share one vocabulary.
std::unique_ptr<PenaltyEstimator> make_soft(const EstimatorContext& c) {
  const std::string& dir = c.config.safety.classifier;
  ST_CHECK_INPUT(!dir.empty(), "{}: safety.estimator=soft feeds expected embeddings to a classifier, and only safety.harm_judge "
                 "is set; a judge reads text: set safety.estimator=sampled, or give a safety.classifier", c.config.source);
  auto classifier = load_classifier(dir, c.device);
  const auto& cc = classifier->config();
  const std::string lm_hash = vocabulary_sha256(c.config.model.path);
  ST_CHECK_INPUT(cc.encoder.vocab_size == c.model_config.vocab_size && cc.tokenizer_sha256 == lm_hash,
                 "{}: the soft penalty needs the classifier to share the language model's vocabulary, but it has {} "
                 "pieces and tokenizer SHA-256 {} while the model has {} and {}; train the classifier with "
                 "classifier.tokenizer set to this model's folder or tokenizer file, or set safety.estimator=sampled, which "
                 "scores decoded text with the classifier's own tokenizer",
                 dir, cc.encoder.vocab_size, cc.tokenizer_sha256.empty() ? "(none)" : cc.tokenizer_sha256.substr(0, 12),
                 c.model_config.vocab_size, lm_hash.substr(0, 12));
  return std::make_unique<SoftEstimator>(std::move(classifier), c.config.safety.temperature);
}

// The sampled estimator decodes the model's samples and scores the text with the penalty's scorer.
std::unique_ptr<PenaltyEstimator> make_sampled(const EstimatorContext& c) {
  const auto& s = c.config.safety.sample;
  const Tokenizer& tokenizer = c.tokenizer;
  // A sample ends where a response does under the run's template (chatml: <|im_end|>, else EOS).
  LmVocabulary vocabulary{[&tokenizer](const std::vector<int>& ids) { return tokenizer.decode(ids); },
                          response_end_id(tokenizer, c.config.data.options),
                          tokenizer.pad_id()};
  std::shared_ptr<TextScorer> scorer = c.text_scorer;
  if (!scorer) scorer = open_scorer(penalty_scorer_source(c.config), c.config.safety.classifier, c.config.safety.harm_judge, c.device);
  return std::make_unique<SampledEstimator>(std::move(scorer), std::move(vocabulary),
                                            SampledPenaltyOptions{s.temperature, s.max_new_tokens, s.baseline_momentum});
}

using Factory = std::unique_ptr<PenaltyEstimator> (*)(const EstimatorContext&);
constexpr std::pair<EstimatorKind, Factory> kFactories[] = {
    {EstimatorKind::Soft, make_soft},
    {EstimatorKind::Sampled, make_sampled},
};

}  // namespace

std::unique_ptr<PenaltyEstimator> make_penalty_estimator(const EstimatorContext& context) {
  if (penalty_scorer_source(context.config) == ScorerSource::None) return nullptr;
  for (const auto& [kind, factory] : kFactories)
    if (kind == context.config.safety.estimator) return factory(context);
  fail_runtime("internal: no factory for safety.estimator={}", enum_name(context.config.safety.estimator));
}

}  // namespace st
