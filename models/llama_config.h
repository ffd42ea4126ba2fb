// models/llama_config.h — the Hugging Face config.json of a Llama-family model, mapped to the options
// safetune implements. Anything it does not implement is rejected by name, never silently ignored.
// `model_type` picks a registered family (models/llama_config.cpp); families that differ from Llama only
// by flags (per-projection biases, a sliding window) set fields here instead of forking the model.
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
  std::string model_type = "llama";  // the registered family it was read as (and is written as)
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
  bool qkv_bias = false;  // q_proj/k_proj/v_proj carry biases (llama: attention_bias; Qwen2: always)
  bool o_bias = false;    // o_proj carries a bias (llama: attention_bias; Qwen2: never)
  bool mlp_bias = false;
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;  // HF allows one id or a list
  std::optional<int64_t> pad_token_id;
  // Attention limited to the last N positions (Mistral, Qwen2's use_sliding_window). The reader refuses a
  // window in effect, by name, while LlamaModel implements full causal attention only.
  std::optional<int64_t> sliding_window;
  std::string torch_dtype = "float32";  // what the weights were saved as
  bool causal = true;  // not a Hugging Face key: false for the bidirectional toxicity classifier encoder

  // The original JSON, so that writing a model folder keeps keys safetune does not interpret.
  nlohmann::json raw;

  // `label` names the file in error messages (exit 2).
  static LlamaConfig from_json(const nlohmann::json& json, const std::string& label);
  static LlamaConfig from_file(const std::string& path);
  // `raw` updated with the values above (dtype as given), ready to be written as config.json.
  nlohmann::json to_json() const;
  // Parameters a model of this config holds, from the sizes alone (what building it would allocate).
  double parameter_count() const;
};

const char* rope_type_name(RopeType type);

// The model_type values a config.json may name, in registration order (for messages and tests).
std::vector<std::string> registered_model_types();

}  // namespace st
