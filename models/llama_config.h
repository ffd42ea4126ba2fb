// models/llama_config.h — the Hugging Face config.json of a Llama-family model, mapped to the options
// safetune implements. Anything it does not implement is rejected by name, never silently ignored.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace st {

enum class RopeType { Default, Linear, Llama3 };

struct RopeConfig {
  RopeType type = RopeType::Default;
  double theta = 10000.0;
  double factor = 1.0;                          // linear and llama3
  double low_freq_factor = 1.0;                 // llama3
  double high_freq_factor = 4.0;                // llama3
  int64_t original_max_position_embeddings = 0; // llama3
};

struct LlamaConfig {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // defaults to num_attention_heads (plain multi-head attention)
  int64_t head_dim = 0;             // defaults to hidden_size / num_attention_heads
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-6;
  double initializer_range = 0.02;
  RopeConfig rope;
  bool tie_word_embeddings = false;
  bool attention_bias = false;
  bool mlp_bias = false;
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;  // HF allows one id or a list
  std::optional<int64_t> pad_token_id;
  std::string torch_dtype = "float32";  // what the weights were saved as
  bool causal = true;  // not a Hugging Face key: false for the bidirectional toxicity classifier encoder

  // The original JSON, so that writing a model folder keeps keys safetune does not interpret.
  nlohmann::json raw;

  // `label` names the file in error messages (exit 2).
  static LlamaConfig from_json(const nlohmann::json& json, const std::string& label);
  static LlamaConfig from_file(const std::string& path);
  // `raw` updated with the values above (dtype as given), ready to be written as config.json.
  nlohmann::json to_json() const;
};

const char* rope_type_name(RopeType type);

}  // namespace st
