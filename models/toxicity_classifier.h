// models/toxicity_classifier.h — the frozen judge of the safety objective: the Llama decoder blocks with
// bidirectional attention, a masked mean over the final hidden states, and a linear head whose first
// output is the logit of P(toxic) and whose others (optional) score harm categories.
// Saved as a model folder: config.json (the encoder's Llama keys + "safetune_classifier"), model.safetensors
// (encoder under "model.", head under "score."), the tokenizer files of the vocabulary it reads.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <string>
#include <vector>

#include "common/files.h"
#include "models/llama.h"

namespace st {

struct ClassifierConfig {
  LlamaConfig encoder;                  // causal = false
  std::vector<std::string> categories;  // outputs 1.. of the head; may be empty
  double threshold = 0.5;               // P(toxic) above which a text counts as toxic (chosen at a target FPR)
  // The vocabulary it was trained with: data/tokenizer.h vocabulary_sha256() of its tokenizer (for
  // sentencepiece the hash of tokenizer.model, as every classifier folder has recorded it). JSON key
  // "tokenizer_sha256", kept so that existing folders load.
  std::string tokenizer_sha256;
  static ClassifierConfig from_file(const std::string& path);
  static ClassifierConfig from_json(const nlohmann::json& json, const std::string& label);
  nlohmann::json to_json() const;
};

class ToxicityClassifierImpl : public torch::nn::Module {
 public:
  explicit ToxicityClassifierImpl(const ClassifierConfig& config);
  // input_ids [B, T], mask [B, T] (1 = token) -> logits [B, 1 + categories]
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& mask);
  // The same from input embeddings [B, T, H]: the soft penalty feeds expected embeddings here.
  torch::Tensor forward_embeddings(const torch::Tensor& embeds, const torch::Tensor& mask);
  torch::Tensor embedding_matrix() const { return model->embed_tokens->weight; }  // [V, H]
  void init_weights(uint64_t seed) { init_parameters(*this, config_.encoder.initializer_range, seed); }
  const ClassifierConfig& config() const { return config_; }
  void set_threshold(double threshold) { config_.threshold = threshold; }

  LlamaModel model{nullptr};
  torch::nn::Linear score{nullptr};

 private:
  ClassifierConfig config_;
};
TORCH_MODULE(ToxicityClassifier);

// Loads a classifier folder on `device`, in eval mode, with gradients off: frozen.
ToxicityClassifier load_classifier(const std::string& dir, torch::Device device = torch::kCPU);
// Writes config.json, model.safetensors and `tokenizer_files` (copied under their names).
void save_classifier(const std::string& dir, ToxicityClassifier& classifier, const std::vector<NamedFile>& tokenizer_files);

}  // namespace st
