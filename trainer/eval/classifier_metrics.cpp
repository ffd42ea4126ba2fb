// trainer/eval/classifier_metrics.cpp — rank-based AUROC and threshold selection.
#include "trainer/eval/classifier_metrics.h"

#include <algorithm>
#include <numeric>

#include "common/check.h"

namespace st {

double auroc(const std::vector<double>& scores, const std::vector<int>& labels) {
  ST_CHECK(scores.size() == labels.size(), "auroc: {} scores but {} labels", scores.size(), labels.size());
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Mann-Whitney U from average ranks (ties share their mean rank).
  double positive_rank_sum = 0;
  int64_t positives = 0, negatives = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    const double mean_rank = 0.5 * static_cast<double>(i + 1 + j);  // ranks i+1 .. j
    for (size_t k = i; k < j; ++k) {
      if (labels[order[k]]) positive_rank_sum += mean_rank, ++positives;
      else ++negatives;
    }
    i = j;
  }
  if (positives == 0 || negatives == 0) return 0.5;
  const double p = static_cast<double>(positives), n = static_cast<double>(negatives);
  return (positive_rank_sum - p * (p + 1) / 2) / (p * n);
}

ThresholdChoice threshold_at_fpr(const std::vector<double>& scores, const std::vector<int>& labels, double target_fpr) {
  std::vector<double> candidates = scores;
  candidates.push_back(1.0);
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  int64_t negatives = 0, positives = 0;
  for (int l : labels) (l ? positives : negatives) += 1;
  ThresholdChoice best{1.0, 0.0, -1.0};
  // High to low: FPR and TPR only grow. Keep the highest threshold reaching the best TPR within the FPR
  // cap, placed midway to the next higher score: every threshold in that gap decides validation the same.
  for (size_t i = candidates.size(); i-- > 0;) {
    int64_t fp = 0, tp = 0;
    for (size_t k = 0; k < scores.size(); ++k)
      if (scores[k] > candidates[i]) (labels[k] ? tp : fp) += 1;
    const double fpr = negatives ? static_cast<double>(fp) / static_cast<double>(negatives) : 0.0;
    const double tpr = positives ? static_cast<double>(tp) / static_cast<double>(positives) : 0.0;
    if (fpr > target_fpr) break;
    if (tpr > best.tpr) {
      const double upper = i + 1 < candidates.size() ? candidates[i + 1] : candidates[i];
      best = {0.5 * (candidates[i] + upper), fpr, tpr};
    }
  }
  best.tpr = std::max(best.tpr, 0.0);
  return best;
}

double accuracy_at(const std::vector<double>& scores, const std::vector<int>& labels, double threshold) {
  int64_t right = 0;
  for (size_t i = 0; i < scores.size(); ++i) right += (scores[i] > threshold) == (labels[i] != 0);
  return scores.empty() ? 0.0 : static_cast<double>(right) / static_cast<double>(scores.size());
}

}  // namespace st
