// models/classifier_scoring.cpp — batched P(toxic) over token lists and over texts.
#include "models/classifier_scoring.h"

#include <algorithm>

namespace st {

std::pair<torch::Tensor, torch::Tensor> pad_token_lists(const std::vector<const std::vector<int>*>& seqs, int pad_id) {
  size_t T = 1;
  for (const auto* s : seqs) T = std::max(T, s->size());
  auto ids = torch::full({static_cast<int64_t>(seqs.size()), static_cast<int64_t>(T)}, pad_id, torch::kInt64);
  auto mask = torch::zeros({static_cast<int64_t>(seqs.size()), static_cast<int64_t>(T)}, torch::kBool);
  auto ids_a = ids.accessor<int64_t, 2>();  // element writes through accessors, not one tensor op per token
  auto mask_a = mask.accessor<bool, 2>();
  for (size_t b = 0; b < seqs.size(); ++b)
    for (size_t t = 0; t < seqs[b]->size(); ++t) {
      ids_a[static_cast<int64_t>(b)][static_cast<int64_t>(t)] = (*seqs[b])[t];
      mask_a[static_cast<int64_t>(b)][static_cast<int64_t>(t)] = true;
    }
  return {ids, mask};
}

std::vector<double> predict_toxicity(ToxicityClassifier& classifier, const std::vector<const std::vector<int>*>& texts,
                                     int pad_id, std::vector<std::vector<double>>* categories) {
  torch::NoGradGuard no_grad;
  const auto device = classifier->parameters().front().device();
  std::vector<double> out;
  for (size_t start = 0; start < texts.size(); start += 64) {
    std::vector<const std::vector<int>*> chunk(texts.begin() + static_cast<std::ptrdiff_t>(start),
                                               texts.begin() + static_cast<std::ptrdiff_t>(std::min(texts.size(), start + 64)));
    auto [ids, mask] = pad_token_lists(chunk, pad_id);
    auto probs = torch::sigmoid(classifier(ids.to(device), mask.to(device))).to(torch::kCPU, torch::kFloat64).contiguous();  // [B, 1 + C]
    auto p = probs.accessor<double, 2>();
    for (int64_t b = 0; b < probs.size(0); ++b) {
      out.push_back(p[b][0]);
      if (categories) {
        std::vector<double> row;
        for (int64_t k = 1; k < probs.size(1); ++k) row.push_back(p[b][k]);
        categories->push_back(std::move(row));
      }
    }
  }
  return out;
}

std::vector<double> ClassifierScorer::score(const std::vector<std::string>& /*prompts*/, const std::vector<std::string>& responses) {
  const int64_t max_len = classifier_->config().encoder.max_position_embeddings;
  std::vector<std::vector<int>> encoded;
  for (const auto& t : responses) encoded.push_back(encode_(t, max_len));
  std::vector<const std::vector<int>*> seqs;
  for (const auto& e : encoded) seqs.push_back(&e);
  return predict_toxicity(classifier_, seqs, pad_id_);
}

}  // namespace st
