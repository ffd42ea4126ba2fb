// trainer/classifier_training.h — `safetune train-classifier`'s engine: a toxicity classifier on a language
// model's vocabulary, trained on labelled JSONL, with a held-out split, AUROC and a threshold at a target FPR.
#pragma once

#include "trainer/run_config.h"

namespace st {

// Trains and writes the classifier folder (weights, config, tokenizer files, training_report.json).
void train_classifier(const ClassifierRunConfig& config);

}  // namespace st
