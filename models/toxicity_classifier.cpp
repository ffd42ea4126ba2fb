// models/toxicity_classifier.cpp — classifier config, forward and folder I/O.
#include "models/toxicity_classifier.h"

#include <filesystem>

#include "common/check.h"
#include "common/files.h"
#include "common/json_file.h"
#include "models/model_folder.h"

namespace st {
namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kArchitecture = "SafetuneToxicityClassifier";

ClassifierConfig ClassifierConfig::from_json(const json& j, const std::string& label) {
  ST_CHECK_INPUT(j.is_object() && j.contains("architectures") && j["architectures"] == json::array({kArchitecture}),
                 "{}: not a safetune toxicity classifier (architectures must be [\"{}\"])", label, kArchitecture);
  ClassifierConfig c;
  json encoder = j;
  encoder.erase("architectures");
  encoder.erase("safetune_classifier");
  c.encoder = LlamaConfig::from_json(encoder, label);
  c.encoder.causal = false;
  c.encoder.tie_word_embeddings = true;  // no lm_head
  if (j.contains("safetune_classifier")) {
    const auto& extra = j["safetune_classifier"];
    ST_CHECK_INPUT(extra.is_object() && (!extra.contains("pooling") || extra["pooling"] == "mean"),
                   "{}: safetune_classifier.pooling must be \"mean\"", label);
    if (extra.contains("threshold")) {
      const auto& t = extra["threshold"];
      ST_CHECK_INPUT(t.is_number() && t.get<double>() >= 0 && t.get<double>() <= 1,
                     "{}: safetune_classifier.threshold must be a probability in [0, 1], got {}", label, json_excerpt(t));
      c.threshold = t.get<double>();
    }
    if (extra.contains("tokenizer_sha256")) {
      const auto& h = extra["tokenizer_sha256"];
      ST_CHECK_INPUT(h.is_string(), "{}: safetune_classifier.tokenizer_sha256 must be a hex string, got {}", label,
                     json_excerpt(h));
      c.tokenizer_sha256 = h.get<std::string>();
    }
    if (extra.contains("categories")) {
      ST_CHECK_INPUT(extra["categories"].is_array(), "{}: safetune_classifier.categories must be a list of names", label);
      for (const auto& name : extra["categories"]) {
        ST_CHECK_INPUT(name.is_string(), "{}: safetune_classifier.categories must be a list of names", label);
        c.categories.push_back(name.get<std::string>());
      }
    }
  }
  return c;
}

ClassifierConfig ClassifierConfig::from_file(const std::string& path) { return from_json(read_json_file(path), path); }

json ClassifierConfig::to_json() const {
  json j = encoder.to_json();
  j["architectures"] = {kArchitecture};
  j.erase("tie_word_embeddings");
  j["safetune_classifier"] = {{"pooling", "mean"}, {"categories", categories}, {"threshold", threshold},
                              {"tokenizer_sha256", tokenizer_sha256}};
  return j;
}

ToxicityClassifierImpl::ToxicityClassifierImpl(const ClassifierConfig& c) : config_(c) {
  model = register_module("model", LlamaModel(c.encoder));
  score = register_module("score", torch::nn::Linear(c.encoder.hidden_size, 1 + static_cast<int64_t>(c.categories.size())));
}

torch::Tensor ToxicityClassifierImpl::forward_embeddings(const torch::Tensor& embeds, const torch::Tensor& mask) {
  auto h = model->forward_embeddings(embeds, /*position_ids=*/{}, mask);  // [B, T, H]
  auto m = mask.to(h.scalar_type()).unsqueeze(-1);                       // [B, T, 1]
  auto pooled = (h * m).sum(/*dim=*/1) / m.sum(/*dim=*/1).clamp_min(1.0);  // [B, H]
  return score(pooled);                                                   // [B, 1 + C]
}

torch::Tensor ToxicityClassifierImpl::forward(const torch::Tensor& input_ids, const torch::Tensor& mask) {
  return forward_embeddings(model->embed_tokens(input_ids), mask);
}

ToxicityClassifier load_classifier(const std::string& dir, torch::Device device) {
  ST_CHECK_INPUT(fs::is_directory(dir), "{}: not a folder (expected a classifier folder)", dir);
  const auto config = ClassifierConfig::from_file((fs::path(dir) / "config.json").string());
  const auto store = TensorStore::open_folder(dir);
  check_config_sizes(config.encoder, store, dir);
  ToxicityClassifier classifier(config);
  load_parameters(*classifier, store, dir);
  classifier->to(device);
  classifier->eval();
  for (auto& p : classifier->parameters()) p.set_requires_grad(false);
  return classifier;
}

void save_classifier(const std::string& dir, ToxicityClassifier& classifier, const std::vector<NamedFile>& tokenizer_files) {
  fs::create_directories(dir);
  save_tensor_folder(dir, named_parameters_for_save(*classifier, torch::kFloat32), {{"format", "pt"}});
  write_text_file_atomic((fs::path(dir) / "config.json").string(), classifier->config().to_json().dump(2) + "\n");
  copy_files_into(dir, tokenizer_files);
}

}  // namespace st
