// trainer/eval/classifier_metrics.h — how a binary classifier is judged on held-out data: accuracy, AUROC
// (the probability that a random positive outscores a random negative, ties counting half) and the
// decision threshold that keeps the false-positive rate at or below a target.
#pragma once

#include <vector>

namespace st {

double auroc(const std::vector<double>& scores, const std::vector<int>& labels);

struct ThresholdChoice {
  double threshold = 0.5;  // predict positive when score > threshold
  double fpr = 0, tpr = 0;
};
// Among thresholds whose false-positive rate is <= target_fpr, the highest one with the best true-positive
// rate, set midway between neighbouring scores.
ThresholdChoice threshold_at_fpr(const std::vector<double>& scores, const std::vector<int>& labels, double target_fpr);

double accuracy_at(const std::vector<double>& scores, const std::vector<int>& labels, double threshold);

}  // namespace st
