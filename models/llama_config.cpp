// models/llama_config.cpp — strict mapping of Hugging Face LlamaConfig JSON (transformers 4.x keys and the
// 5.x `rope_parameters` form) onto LlamaConfig.
#include "models/llama_config.h"

#include <fmt/ranges.h>

#include <algorithm>

#include "common/check.h"
#include "common/json_file.h"

namespace st {
namespace {

using json = nlohmann::json;
constexpr int64_t kMaxVocab = int64_t{1} << 22;  // 4M pieces; the largest real vocabularies hold 256K

struct Reader {
  const json& j;
  const std::string& label;

  bool has(const char* key) const { return j.contains(key) && !j[key].is_null(); }

  // A size in [1, max]: compared before any allocation, so 1e12 layers is an error, not an abort or a hang.
  int64_t positive_int(const char* key, int64_t max) const {
    ST_CHECK_INPUT(has(key), "{}: missing required key '{}'", label, key);
    return positive_int_value(j[key], key, max);
  }
  int64_t positive_int_value(const json& v, const std::string& key, int64_t max) const {
    ST_CHECK_INPUT(v.is_number_integer() && v.get<double>() >= 1 && v.get<double>() <= static_cast<double>(max),
                   "{}: '{}' must be an integer in [1, {}], got {}", label, key, max, json_excerpt(v));
    return v.get<int64_t>();
  }
  int64_t positive_int_or(const char* key, int64_t fallback, int64_t max) const {
    return has(key) ? positive_int(key, max) : fallback;
  }
  double number_or(const json& obj, const char* key, double fallback, const std::string& where) const {
    if (!obj.contains(key) || obj[key].is_null()) return fallback;
    ST_CHECK_INPUT(obj[key].is_number(), "{}: '{}{}' must be a number, got {}", label, where, key, json_excerpt(obj[key]));
    return obj[key].get<double>();  // JSON has no NaN or infinity; a number too large fails to parse
  }
  bool bool_or(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    ST_CHECK_INPUT(j[key].is_boolean(), "{}: '{}' must be true or false, got {}", label, key, json_excerpt(j[key]));
    return j[key].get<bool>();
  }
  std::optional<int64_t> optional_id(const char* key) const {
    if (!has(key)) return std::nullopt;
    ST_CHECK_INPUT(j[key].is_number_integer() && j[key].get<double>() >= 0 && j[key].get<double>() < kMaxVocab,
                   "{}: '{}' must be a non-negative token id, got {}", label, key, json_excerpt(j[key]));
    return j[key].get<int64_t>();
  }
};

// rope_scaling (4.x) or rope_parameters (5.x) -> RopeConfig. Only types whose maths safetune implements.
RopeConfig parse_rope(const Reader& r, int64_t max_positions) {
  RopeConfig rope;
  rope.theta = r.number_or(r.j, "rope_theta", 10000.0, "");
  // theta <= 1 makes every rotary frequency 1 or more per position (theta 0 divides by zero): no model has it.
  ST_CHECK_INPUT(rope.theta > 1, "{}: 'rope_theta' must be greater than 1, got {}", r.label, rope.theta);
  const char* key = r.has("rope_parameters") ? "rope_parameters" : (r.has("rope_scaling") ? "rope_scaling" : nullptr);
  if (key == nullptr) return rope;
  const json& p = r.j[key];
  const std::string where = std::string(key) + ".";
  ST_CHECK_INPUT(p.is_object(), "{}: '{}' must be an object, got {}", r.label, key, json_excerpt(p));
  rope.theta = r.number_or(p, "rope_theta", rope.theta, where);
  ST_CHECK_INPUT(rope.theta > 1, "{}: '{}rope_theta' must be greater than 1, got {}", r.label, where, rope.theta);
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
    const double original = r.number_or(p, "original_max_position_embeddings", static_cast<double>(max_positions), where);
    ST_CHECK_INPUT(original >= 1 && original <= static_cast<double>(int64_t{1} << 24),
                   "{}: '{}original_max_position_embeddings' must be in [1, 2^24], got {}", r.label, where, original);
    rope.original_max_position_embeddings = static_cast<int64_t>(original);
    ST_CHECK_INPUT(rope.high_freq_factor > rope.low_freq_factor && rope.low_freq_factor > 0,
                   "{}: '{}' needs high_freq_factor > low_freq_factor > 0", r.label, key);
    ST_CHECK_INPUT(rope.original_max_position_embeddings > 0,
                   "{}: '{}original_max_position_embeddings' must be positive", r.label, where);
  } else {
    fail_input("{}: '{}rope_type' = '{}' is not supported (supported: default, linear, llama3)", r.label, where, type);
  }
  rope.factor = r.number_or(p, "factor", 1.0, where);
  ST_CHECK_INPUT(rope.factor >= 1.0 && rope.factor <= 1e6, "{}: '{}factor' must be in [1, 1e6], got {}", r.label, where, rope.factor);
  return rope;
}


// The dimensions every family shares (vocabulary, widths, heads, depth, positions), each bounded well
// above the largest released model (Llama 3.1 405B: vocabulary 128256, width 16384, 126 layers, 128 heads).
void read_shapes(const Reader& r, LlamaConfig& c) {
  const auto& label = r.label;
  c.vocab_size = r.positive_int("vocab_size", kMaxVocab);
  c.hidden_size = r.positive_int("hidden_size", 1 << 17);
  c.intermediate_size = r.positive_int("intermediate_size", 1 << 19);
  c.num_hidden_layers = r.positive_int("num_hidden_layers", 1024);
  c.num_attention_heads = r.positive_int("num_attention_heads", 1024);
  c.num_key_value_heads = r.positive_int_or("num_key_value_heads", c.num_attention_heads, 1024);
  ST_CHECK_INPUT(c.num_attention_heads % c.num_key_value_heads == 0,
                 "{}: num_attention_heads ({}) must be a multiple of num_key_value_heads ({})", label,
                 c.num_attention_heads, c.num_key_value_heads);
  if (r.has("head_dim")) {
    c.head_dim = r.positive_int("head_dim", 4096);
  } else {
    ST_CHECK_INPUT(c.hidden_size % c.num_attention_heads == 0,
                   "{}: hidden_size ({}) must be divisible by num_attention_heads ({}) when head_dim is absent", label,
                   c.hidden_size, c.num_attention_heads);
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  ST_CHECK_INPUT(c.head_dim % 2 == 0, "{}: head_dim must be even for rotary embeddings, got {}", label, c.head_dim);
  c.max_position_embeddings = r.positive_int_or("max_position_embeddings", 2048, int64_t{1} << 24);
}

void read_token_ids(const Reader& r, LlamaConfig& c) {
  c.bos_token_id = r.optional_id("bos_token_id");
  c.pad_token_id = r.optional_id("pad_token_id");
  if (!r.has("eos_token_id")) return;
  const auto& e = r.j["eos_token_id"];
  if (e.is_array()) {
    for (const auto& id : e) c.eos_token_ids.push_back(r.positive_int_value(id, "eos_token_id", kMaxVocab - 1));
  } else {
    c.eos_token_ids.push_back(*r.optional_id("eos_token_id"));
  }
}

// ---- model families ---------------------------------------------------------------------------------
// A family maps the config.json keys in which it differs from the others onto LlamaConfig's flags, and
// back. One that LlamaModel runs by flags alone (Qwen2: q/k/v biases without an o_proj bias; Mistral: a
// sliding window) is a new entry in families(), not a new model.
struct ModelFamily {
  const char* model_type;    // config.json "model_type"
  const char* architecture;  // config.json "architectures" entry transformers instantiates
  void (*read_flags)(const Reader& r, LlamaConfig& c);
  void (*write_flags)(const LlamaConfig& c, json& j);
};

void read_llama_flags(const Reader& r, LlamaConfig& c) {
  c.qkv_bias = c.o_bias = r.bool_or("attention_bias", false);  // one flag for all four projections
  c.mlp_bias = r.bool_or("mlp_bias", false);
  // Llama itself has no window; the key is still read so that a config carrying one is refused, not trusted.
  if (r.has("sliding_window")) c.sliding_window = r.positive_int("sliding_window", int64_t{1} << 24);
}

void write_llama_flags(const LlamaConfig& c, json& j) {
  ST_CHECK(c.qkv_bias == c.o_bias, "model_type 'llama' has one attention_bias for q/k/v and o_proj, but the config "
           "has qkv_bias={} and o_bias={}", c.qkv_bias, c.o_bias);
  j["attention_bias"] = c.qkv_bias;
  j["mlp_bias"] = c.mlp_bias;
}

// Qwen2 / Qwen2.5: biases on q_proj, k_proj and v_proj, none on o_proj or the MLP. Its window only applies
// with use_sliding_window (and, in transformers 5, to layers whose layer_types say "sliding_attention").
void read_qwen2_flags(const Reader& r, LlamaConfig& c) {
  c.qkv_bias = true;
  c.o_bias = c.mlp_bias = false;
  const bool windowed_layers = r.has("layer_types") && r.j["layer_types"].is_array() &&
                               std::find(r.j["layer_types"].begin(), r.j["layer_types"].end(), "sliding_attention") != r.j["layer_types"].end();
  if (r.bool_or("use_sliding_window", false) || windowed_layers) c.sliding_window = r.positive_int("sliding_window", int64_t{1} << 24);
}

void write_qwen2_flags(const LlamaConfig& c, json& j) {
  ST_CHECK(c.qkv_bias && !c.o_bias && !c.mlp_bias, "model_type 'qwen2' has q/k/v biases only, but the config has "
           "qkv_bias={}, o_bias={}, mlp_bias={}", c.qkv_bias, c.o_bias, c.mlp_bias);
  j["use_sliding_window"] = false;
}

// Mistral: Llama without biases, plus a sliding window (null in v0.2 and later, 4096 in v0.1: refused).
void read_mistral_flags(const Reader& r, LlamaConfig& c) {
  c.qkv_bias = c.o_bias = c.mlp_bias = false;
  if (r.has("sliding_window")) c.sliding_window = r.positive_int("sliding_window", int64_t{1} << 24);
}

void write_mistral_flags(const LlamaConfig& c, json& j) {
  ST_CHECK(!c.qkv_bias && !c.o_bias && !c.mlp_bias, "model_type 'mistral' has no biases, but the config has some");
  j["sliding_window"] = nullptr;
}

const std::vector<ModelFamily>& families() {
  static const std::vector<ModelFamily> list{{"llama", "LlamaForCausalLM", read_llama_flags, write_llama_flags},
                                             {"qwen2", "Qwen2ForCausalLM", read_qwen2_flags, write_qwen2_flags},
                                             {"mistral", "MistralForCausalLM", read_mistral_flags, write_mistral_flags}};
  return list;
}

const ModelFamily* find_family(const std::string& model_type) {
  for (const auto& f : families())
    if (model_type == f.model_type) return &f;
  return nullptr;
}

const ModelFamily& registered_family(const std::string& model_type) {
  const auto* family = find_family(model_type);
  ST_CHECK(family != nullptr, "model_type '{}' is not a registered family", model_type);
  return *family;
}

// A config without model_type (older hand-written ones, safetune's own architecture files) is Llama.
const ModelFamily& family_of(const Reader& r) {
  if (!r.has("model_type")) return families().front();
  const json& v = r.j["model_type"];
  const auto type = v.is_string() ? v.get<std::string>() : json_excerpt(v);
  const auto* family = find_family(type);
  ST_CHECK_INPUT(family != nullptr, "{}: model_type '{}' is not supported (registered families: {})", r.label, type,
                 fmt::join(registered_model_types(), ", "));
  return *family;
}

// Keys whose values safetune's decoder does not implement, whatever the family.
void refuse_unsupported_keys(const Reader& r, const ModelFamily& family) {
  const json& j = r.j;
  const auto& label = r.label;
  if (r.has("architectures")) {
    ST_CHECK_INPUT(j["architectures"].is_array(), "{}: 'architectures' must be a list", label);
    for (const auto& a : j["architectures"])
      ST_CHECK_INPUT(a == family.architecture, "{}: architecture {} is not supported (safetune implements {})", label,
                     json_excerpt(a), family.architecture);
  }
  if (r.has("hidden_act")) {
    ST_CHECK_INPUT(j["hidden_act"] == "silu", "{}: hidden_act {} is not supported (Llama uses 'silu')", label,
                   json_excerpt(j["hidden_act"]));
  }
  ST_CHECK_INPUT(r.number_or(j, "attention_dropout", 0.0, "") == 0.0,
                 "{}: attention_dropout > 0 is not supported", label);
  ST_CHECK_INPUT(r.number_or(j, "pretraining_tp", 1.0, "") == 1.0,
                 "{}: pretraining_tp != 1 is not supported (it is a slicing detail of the original checkpoints)", label);
  ST_CHECK_INPUT(r.number_or(j, "partial_rotary_factor", 1.0, "") == 1.0,
                 "{}: partial_rotary_factor != 1 is not supported by Llama", label);
}

// Flags a family set that LlamaModel does not implement yet.
void refuse_unimplemented(const LlamaConfig& c, const std::string& label) {
  ST_CHECK_INPUT(!c.sliding_window, "{}: 'sliding_window' = {} is not supported (safetune attends over every earlier "
                 "position; a window would change every result past {} tokens)", label, c.sliding_window.value_or(0),
                 c.sliding_window.value_or(0));
}

}  // namespace

std::vector<std::string> registered_model_types() {
  std::vector<std::string> names;
  for (const auto& f : families()) names.emplace_back(f.model_type);
  return names;
}

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
  const Reader r{j, label};
  const ModelFamily& family = family_of(r);
  refuse_unsupported_keys(r, family);
  LlamaConfig c;
  c.raw = j;
  c.model_type = family.model_type;
  read_shapes(r, c);
  c.rms_norm_eps = r.number_or(j, "rms_norm_eps", 1e-6, "");
  ST_CHECK_INPUT(c.rms_norm_eps > 0 && c.rms_norm_eps < 1, "{}: 'rms_norm_eps' must be in (0, 1), got {}", label, c.rms_norm_eps);
  c.initializer_range = r.number_or(j, "initializer_range", 0.02, "");
  c.rope = parse_rope(r, c.max_position_embeddings);
  c.tie_word_embeddings = r.bool_or("tie_word_embeddings", false);
  family.read_flags(r, c);
  refuse_unimplemented(c, label);
  read_token_ids(r, c);
  for (const char* key : {"torch_dtype", "dtype"}) {
    if (r.has(key) && j[key].is_string()) c.torch_dtype = j[key].get<std::string>();
  }
  return c;
}

LlamaConfig LlamaConfig::from_file(const std::string& path) { return from_json(read_json_file(path), path); }

double LlamaConfig::parameter_count() const {
  const double h = static_cast<double>(hidden_size), q = static_cast<double>(num_attention_heads * head_dim),
               kv = static_cast<double>(num_key_value_heads * head_dim), i = static_cast<double>(intermediate_size);
  const double attention = h * q * 2 + h * kv * 2 + (qkv_bias ? q + 2 * kv : 0) + (o_bias ? h : 0);
  const double mlp = 3 * h * i + (mlp_bias ? 2 * i + h : 0);
  const double embeddings = static_cast<double>(vocab_size) * h * (tie_word_embeddings ? 1 : 2);
  return embeddings + static_cast<double>(num_hidden_layers) * (attention + mlp + 2 * h) + h;
}

json LlamaConfig::to_json() const {
  json j = raw.is_object() ? raw : json::object();
  const ModelFamily& family = registered_family(model_type);
  j["architectures"] = {family.architecture};
  j["model_type"] = family.model_type;
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
  family.write_flags(*this, j);
  if (sliding_window) j["sliding_window"] = *sliding_window;
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
