// models/llama_config.cpp — strict mapping of Hugging Face LlamaConfig JSON (transformers 4.x keys and the
// 5.x `rope_parameters` form) onto LlamaConfig.
#include "models/llama_config.h"

#include "common/check.h"
#include "common/json_file.h"

namespace st {
namespace {

using json = nlohmann::json;

struct Reader {
  const json& j;
  const std::string& label;

  bool has(const char* key) const { return j.contains(key) && !j[key].is_null(); }

  int64_t positive_int(const char* key) const {
    ST_CHECK_INPUT(has(key), "{}: missing required key '{}'", label, key);
    return positive_int_value(j[key], key);
  }
  int64_t positive_int_value(const json& v, const std::string& key) const {
    ST_CHECK_INPUT(v.is_number_integer() && v.get<int64_t>() > 0, "{}: '{}' must be a positive integer, got {}",
                   label, key, v.dump());
    return v.get<int64_t>();
  }
  int64_t positive_int_or(const char* key, int64_t fallback) const {
    return has(key) ? positive_int(key) : fallback;
  }
  double number_or(const json& obj, const char* key, double fallback, const std::string& where) const {
    if (!obj.contains(key) || obj[key].is_null()) return fallback;
    ST_CHECK_INPUT(obj[key].is_number(), "{}: '{}{}' must be a number, got {}", label, where, key, obj[key].dump());
    return obj[key].get<double>();
  }
  bool bool_or(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    ST_CHECK_INPUT(j[key].is_boolean(), "{}: '{}' must be true or false, got {}", label, key, j[key].dump());
    return j[key].get<bool>();
  }
  std::optional<int64_t> optional_id(const char* key) const {
    if (!has(key)) return std::nullopt;
    ST_CHECK_INPUT(j[key].is_number_integer() && j[key].get<int64_t>() >= 0,
                   "{}: '{}' must be a non-negative token id, got {}", label, key, j[key].dump());
    return j[key].get<int64_t>();
  }
};

// rope_scaling (4.x) or rope_parameters (5.x) -> RopeConfig. Only types whose maths safetune implements.
RopeConfig parse_rope(const Reader& r, int64_t max_positions) {
  RopeConfig rope;
  rope.theta = r.number_or(r.j, "rope_theta", 10000.0, "");
  const char* key = r.has("rope_parameters") ? "rope_parameters" : (r.has("rope_scaling") ? "rope_scaling" : nullptr);
  if (key == nullptr) return rope;
  const json& p = r.j[key];
  const std::string where = std::string(key) + ".";
  ST_CHECK_INPUT(p.is_object(), "{}: '{}' must be an object, got {}", r.label, key, p.dump());
  rope.theta = r.number_or(p, "rope_theta", rope.theta, where);
  std::string type = "default";
  for (const char* type_key : {"rope_type", "type"}) {
    if (p.contains(type_key)) {
      ST_CHECK_INPUT(p[type_key].is_string(), "{}: '{}{}' must be a string", r.label, where, type_key);
      type = p[type_key].get<std::string>();
      break;
    }
  }
  if (type == "default") return rope;
  if (type == "linear") {
    rope.type = RopeType::Linear;
  } else if (type == "llama3") {
    rope.type = RopeType::Llama3;
    rope.low_freq_factor = r.number_or(p, "low_freq_factor", 1.0, where);
    rope.high_freq_factor = r.number_or(p, "high_freq_factor", 4.0, where);
    rope.original_max_position_embeddings =
        static_cast<int64_t>(r.number_or(p, "original_max_position_embeddings", static_cast<double>(max_positions), where));
    ST_CHECK_INPUT(rope.high_freq_factor > rope.low_freq_factor && rope.low_freq_factor > 0,
                   "{}: '{}' needs high_freq_factor > low_freq_factor > 0", r.label, key);
    ST_CHECK_INPUT(rope.original_max_position_embeddings > 0,
                   "{}: '{}original_max_position_embeddings' must be positive", r.label, where);
  } else {
    fail_input("{}: '{}rope_type' = '{}' is not supported (supported: default, linear, llama3)", r.label, where, type);
  }
  rope.factor = r.number_or(p, "factor", 1.0, where);
  ST_CHECK_INPUT(rope.factor >= 1.0, "{}: '{}factor' must be >= 1, got {}", r.label, where, rope.factor);
  return rope;
}

}  // namespace

const char* rope_type_name(RopeType type) {
  switch (type) {
    case RopeType::Default: return "default";
    case RopeType::Linear: return "linear";
    case RopeType::Llama3: return "llama3";
  }
  return "?";
}

LlamaConfig LlamaConfig::from_json(const json& j, const std::string& label) {
  ST_CHECK_INPUT(j.is_object(), "{}: config must be a JSON object", label);
  Reader r{j, label};
  LlamaConfig c;
  c.raw = j;

  if (r.has("model_type")) {
    const auto type = j["model_type"].is_string() ? j["model_type"].get<std::string>() : j["model_type"].dump();
    ST_CHECK_INPUT(type == "llama", "{}: model_type '{}' is not supported (safetune implements 'llama')", label, type);
  }
  if (r.has("architectures")) {
    ST_CHECK_INPUT(j["architectures"].is_array(), "{}: 'architectures' must be a list", label);
    for (const auto& a : j["architectures"])
      ST_CHECK_INPUT(a == "LlamaForCausalLM",
                     "{}: architecture {} is not supported (safetune implements LlamaForCausalLM)", label, a.dump());
  }
  if (r.has("hidden_act")) {
    ST_CHECK_INPUT(j["hidden_act"] == "silu", "{}: hidden_act {} is not supported (Llama uses 'silu')", label,
                   j["hidden_act"].dump());
  }
  ST_CHECK_INPUT(r.number_or(j, "attention_dropout", 0.0, "") == 0.0,
                 "{}: attention_dropout > 0 is not supported", label);
  ST_CHECK_INPUT(r.number_or(j, "pretraining_tp", 1.0, "") == 1.0,
                 "{}: pretraining_tp != 1 is not supported (it is a slicing detail of the original checkpoints)", label);
  ST_CHECK_INPUT(r.number_or(j, "partial_rotary_factor", 1.0, "") == 1.0,
                 "{}: partial_rotary_factor != 1 is not supported by Llama", label);

  c.vocab_size = r.positive_int("vocab_size");
  c.hidden_size = r.positive_int("hidden_size");
  c.intermediate_size = r.positive_int("intermediate_size");
  c.num_hidden_layers = r.positive_int("num_hidden_layers");
  c.num_attention_heads = r.positive_int("num_attention_heads");
  c.num_key_value_heads = r.positive_int_or("num_key_value_heads", c.num_attention_heads);
  ST_CHECK_INPUT(c.num_attention_heads % c.num_key_value_heads == 0,
                 "{}: num_attention_heads ({}) must be a multiple of num_key_value_heads ({})", label,
                 c.num_attention_heads, c.num_key_value_heads);
  if (r.has("head_dim")) {
    c.head_dim = r.positive_int("head_dim");
  } else {
    ST_CHECK_INPUT(c.hidden_size % c.num_attention_heads == 0,
                   "{}: hidden_size ({}) must be divisible by num_attention_heads ({}) when head_dim is absent", label,
                   c.hidden_size, c.num_attention_heads);
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  ST_CHECK_INPUT(c.head_dim % 2 == 0, "{}: head_dim must be even for rotary embeddings, got {}", label, c.head_dim);
  c.max_position_embeddings = r.positive_int_or("max_position_embeddings", 2048);
  c.rms_norm_eps = r.number_or(j, "rms_norm_eps", 1e-6, "");
  ST_CHECK_INPUT(c.rms_norm_eps > 0, "{}: 'rms_norm_eps' must be positive", label);
  c.initializer_range = r.number_or(j, "initializer_range", 0.02, "");
  c.rope = parse_rope(r, c.max_position_embeddings);
  c.tie_word_embeddings = r.bool_or("tie_word_embeddings", false);
  c.attention_bias = r.bool_or("attention_bias", false);
  c.mlp_bias = r.bool_or("mlp_bias", false);
  c.bos_token_id = r.optional_id("bos_token_id");
  c.pad_token_id = r.optional_id("pad_token_id");
  if (r.has("eos_token_id")) {
    const auto& e = j["eos_token_id"];
    if (e.is_array()) {
      for (const auto& id : e) c.eos_token_ids.push_back(r.positive_int_value(id, "eos_token_id"));
    } else {
      c.eos_token_ids.push_back(*r.optional_id("eos_token_id"));
    }
  }
  for (const char* key : {"torch_dtype", "dtype"}) {
    if (r.has(key) && j[key].is_string()) c.torch_dtype = j[key].get<std::string>();
  }
  return c;
}

LlamaConfig LlamaConfig::from_file(const std::string& path) { return from_json(read_json_file(path), path); }

json LlamaConfig::to_json() const {
  json j = raw.is_object() ? raw : json::object();
  j["architectures"] = {"LlamaForCausalLM"};
  j["model_type"] = "llama";
  j["hidden_act"] = "silu";
  j["vocab_size"] = vocab_size;
  j["hidden_size"] = hidden_size;
  j["intermediate_size"] = intermediate_size;
  j["num_hidden_layers"] = num_hidden_layers;
  j["num_attention_heads"] = num_attention_heads;
  j["num_key_value_heads"] = num_key_value_heads;
  j["head_dim"] = head_dim;
  j["max_position_embeddings"] = max_position_embeddings;
  j["rms_norm_eps"] = rms_norm_eps;
  j["initializer_range"] = initializer_range;
  j["tie_word_embeddings"] = tie_word_embeddings;
  j["attention_bias"] = attention_bias;
  j["mlp_bias"] = mlp_bias;
  j["torch_dtype"] = torch_dtype;
  if (bos_token_id) j["bos_token_id"] = *bos_token_id;
  if (pad_token_id) j["pad_token_id"] = *pad_token_id;
  if (eos_token_ids.size() == 1) j["eos_token_id"] = eos_token_ids[0];
  if (eos_token_ids.size() > 1) j["eos_token_id"] = eos_token_ids;
  // Keep whichever rope form the source used; a generated config gets the 4.x form that every version reads.
  const bool v5_form = j.contains("rope_parameters") && !j["rope_parameters"].is_null();
  json scaling = nullptr;
  if (rope.type != RopeType::Default) {
    scaling = {{"rope_type", rope_type_name(rope.type)}, {"factor", rope.factor}};
    if (rope.type == RopeType::Llama3) {
      scaling["low_freq_factor"] = rope.low_freq_factor;
      scaling["high_freq_factor"] = rope.high_freq_factor;
      scaling["original_max_position_embeddings"] = rope.original_max_position_embeddings;
    }
  }
  if (v5_form) {
    json p = scaling.is_null() ? json{{"rope_type", "default"}} : scaling;
    p["rope_theta"] = rope.theta;
    j["rope_parameters"] = p;
  } else {
    j["rope_theta"] = rope.theta;
    j["rope_scaling"] = scaling;
  }
  return j;
}

}  // namespace st
