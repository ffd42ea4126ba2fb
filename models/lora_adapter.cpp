// models/lora_adapter.cpp — reading PEFT LoRA adapters and merging them into the base weights.
#include "models/lora_adapter.h"

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <algorithm>
#include <map>
#include <string_view>

#include <ATen/CPUGeneratorImpl.h>

#include "common/check.h"
#include "common/files.h"
#include "common/json_file.h"
#include "models/model_folder.h"
#include "models/safetensors.h"

namespace st {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr std::string_view kPrefix = "base_model.model.";  // PEFT's name for the wrapped model in saved keys
constexpr std::string_view kSuffixA = ".lora_A.weight", kSuffixB = ".lora_B.weight";  // the same length
constexpr const char* kConfigFile = "adapter_config.json";
constexpr const char* kWeightsFile = "adapter_model.safetensors";

template <typename T, typename U>
bool contains(const std::vector<T>& list, const U& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}
std::string last_component(const std::string& name) { return name.substr(name.rfind('.') + 1); }

// The decoder layer a module belongs to: 3 for model.layers.3.mlp.down_proj.
int64_t layer_index(const std::string& module) {
  constexpr std::string_view kLayers = "layers.";
  const auto at = module.find(kLayers);
  ST_CHECK(at != std::string::npos, "layer_index: '{}' is not inside a decoder layer", module);
  return std::stoll(module.substr(at + kLayers.size()));
}

// PEFT's layers_to_transform: absent or null (every layer), one index, or a list of them.
std::vector<int64_t> read_layers_to_transform(const json& c, const std::string& path) {
  const json v = c.value("layers_to_transform", json());
  if (v.is_null()) return {};
  const json list = v.is_array() ? v : json::array({v});
  std::vector<int64_t> layers;
  for (const auto& item : list) {
    ST_CHECK_INPUT(item.is_number_integer() && item.get<int64_t>() >= 0, "{}: 'layers_to_transform' must be null, a layer "
                   "index or a list of them, got {}", path, json_excerpt(v));
    layers.push_back(item.get<int64_t>());
  }
  return layers;
}

// adapter_config.json: the LoRA settings, with every PEFT option that would change the computation and
// that safetune does not apply refused by name rather than ignored.
LoraAdapterInfo read_adapter_config(const std::string& path) {
  const json c = read_json_file(path);
  ST_CHECK_INPUT(c.is_object(), "{}: must be a JSON object", path);
  ST_CHECK_INPUT(c.value("peft_type", "") == "LORA", "{}: peft_type must be \"LORA\", got {}", path,
                 json_excerpt(c.value("peft_type", json())));
  auto number = [&](const char* key) {
    ST_CHECK_INPUT(c.contains(key) && c[key].is_number() && c[key].get<double>() > 0, "{}: '{}' must be a number > 0, got {}",
                   path, key, json_excerpt(c.value(key, json())));
    return c[key].get<double>();
  };
  LoraAdapterInfo info;
  const double r = number("r");
  ST_CHECK_INPUT(r == std::floor(r) && r <= 65536, "{}: 'r' must be a whole number up to 65536, got {}", path, r);
  info.r = static_cast<int64_t>(r);
  info.alpha = number("lora_alpha");
  info.rslora = c.value("use_rslora", false) == true;
  info.scale = info.rslora ? info.alpha / std::sqrt(r) : info.alpha / r;
  info.layers = read_layers_to_transform(c, path);
  const std::pair<const char*, json> unsupported[] = {
      {"fan_in_fan_out", false}, {"bias", "none"}, {"use_dora", false}, {"lora_bias", false}, {"modules_to_save", nullptr},
      {"layer_replication", nullptr}, {"rank_pattern", json::object()},
      {"alpha_pattern", json::object()}, {"target_parameters", nullptr}, {"trainable_token_indices", nullptr}};
  for (const auto& [key, neutral] : unsupported) {
    if (!c.contains(key) || c[key] == neutral || c[key].is_null() || (c[key].is_object() && c[key].empty())) continue;
    fail_input("{}: '{}' is {}, which safetune does not apply (only plain LoRA on the linear projections)", path, key,
               json_excerpt(c[key]));
  }
  return info;
}

bool is_projection(const std::string& module) { return contains(projection_names(), last_component(module)); }

// Every projection of the model by Hugging Face module name (model.layers.0.self_attn.q_proj), in registration order.
std::vector<std::pair<std::string, Projection>> projections(LlamaForCausalLM& model) {
  std::vector<std::pair<std::string, Projection>> out;
  for (const auto& item : model->named_modules(/*name_prefix=*/"", /*include_self=*/false))
    if (auto p = std::dynamic_pointer_cast<ProjectionImpl>(item.value())) out.emplace_back(item.key(), Projection(p));
  return out;
}

std::map<std::string, torch::Tensor> parameters_by_name(LlamaForCausalLM& model) {
  std::map<std::string, torch::Tensor> weights;
  for (auto& item : model->named_parameters()) weights[item.key()] = item.value();
  return weights;
}

// The adapted modules: every "<prefix><module>.lora_A.weight" and its B, shapes checked against the model.
std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> read_pairs(const TensorStore& store, const std::string& file,
                                                                          const LoraAdapterInfo& info,
                                                                          const std::map<std::string, torch::Tensor>& weights) {
  std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> pairs;
  for (const auto& [name, entry] : store.entries()) {
    const std::string_view n = name;
    const bool a = n.size() > kSuffixA.size() && n.substr(n.size() - kSuffixA.size()) == kSuffixA;
    const bool b = n.size() > kSuffixB.size() && n.substr(n.size() - kSuffixB.size()) == kSuffixB;
    ST_CHECK_INPUT(n.substr(0, kPrefix.size()) == kPrefix && n.size() > kPrefix.size() + kSuffixA.size() && (a || b),
                   "{}: tensor '{}' is not a LoRA A or B weight of a PEFT adapter (base_model.model.<module>.lora_A.weight)",
                   file, name);
    const std::string module(n.substr(kPrefix.size(), n.size() - kPrefix.size() - kSuffixA.size()));
    ST_CHECK_INPUT(is_projection(module) && weights.count(module + ".weight"), "{}: tensor '{}' adapts '{}', which is not "
                   "a projection of this model (supported: {})", file, name, module, fmt::join(projection_names(), ", "));
    ST_CHECK_INPUT(info.layers.empty() || contains(info.layers, layer_index(module)), "{}: tensor '{}' is in layer {}, which "
                   "layers_to_transform [{}] does not list", file, name, layer_index(module), fmt::join(info.layers, ", "));
    (a ? pairs[module].first : pairs[module].second) = store.tensor(name).to(torch::kFloat32);
  }
  ST_CHECK_INPUT(!pairs.empty(), "{}: holds no LoRA weights", file);
  for (const auto& [module, ab] : pairs) {
    ST_CHECK_INPUT(ab.first.defined() && ab.second.defined(), "{}: '{}' has only its lora_{} weight", file, module,
                   ab.first.defined() ? "A" : "B");
    const auto w = weights.at(module + ".weight").sizes().vec();  // [out, in]
    const std::vector<int64_t> want_a{info.r, w[1]}, want_b{w[0], info.r};
    ST_CHECK_INPUT(ab.first.sizes().vec() == want_a && ab.second.sizes().vec() == want_b,
                   "{}: '{}' has lora_A {} and lora_B {}; with r = {} and the base weight {} they must be {} and {}", file,
                   module, fmt::join(ab.first.sizes(), "x"), fmt::join(ab.second.sizes(), "x"), info.r, fmt::join(w, "x"),
                   fmt::join(want_a, "x"), fmt::join(want_b, "x"));
    ST_CHECK_INPUT(torch::isfinite(ab.first).all().item<bool>() && torch::isfinite(ab.second).all().item<bool>(),
                   "{}: '{}' holds NaN or infinity", file, module);
  }
  return pairs;
}
}  // namespace

LoraAdapterInfo merge_lora_adapter(LlamaForCausalLM& model, const std::string& adapter_dir) {
  const std::string config_path = (fs::path(adapter_dir) / kConfigFile).string();
  const std::string weights_path = (fs::path(adapter_dir) / kWeightsFile).string();
  ST_CHECK_INPUT(fs::is_directory(adapter_dir), "{}: adapter folder not found", adapter_dir);
  ST_CHECK_INPUT(fs::exists(weights_path), "{}: not found (a PEFT adapter folder holds adapter_config.json and "
                 "adapter_model.safetensors; .bin adapters are not read)", weights_path);
  LoraAdapterInfo info = read_adapter_config(config_path);
  auto weights = parameters_by_name(model);
  const auto pairs = read_pairs(TensorStore::open_file(weights_path), weights_path, info, weights);
  torch::NoGradGuard no_grad;
  for (const auto& [module, ab] : pairs) {
    auto& w = weights.at(module + ".weight");
    w.add_(torch::mm(ab.second, ab.first).to(w.device()), /*alpha=*/info.scale);  // [out, r] x [r, in]
    info.modules.push_back(module);
  }
  return info;
}

ModelSource resolve_model_source(const std::string& model_dir, const std::string& adapter_dir) {
  const fs::path config = fs::path(model_dir) / kConfigFile;
  if (!adapter_dir.empty() || fs::exists(fs::path(model_dir) / "config.json") || !fs::exists(config))
    return {model_dir, adapter_dir};
  const json c = read_json_file(config.string());
  const std::string base = c.is_object() && c.contains("base_model_name_or_path") && c["base_model_name_or_path"].is_string()
                               ? c["base_model_name_or_path"].get<std::string>() : "";
  fs::path path = base;
  if (!base.empty() && path.is_relative() && fs::is_directory(fs::path(model_dir) / path)) path = fs::path(model_dir) / path;
  ST_CHECK_INPUT(!base.empty() && fs::is_directory(path), "{}: is an adapter folder whose base_model_name_or_path {} is not a "
                 "model folder here; give the base with --model BASE --adapter {}", config.string(), json_excerpt(c.value(
                 "base_model_name_or_path", json())), model_dir);
  return {path.lexically_normal().string(), model_dir};
}

LlamaForCausalLM load_llama_with_adapter(const std::string& dir, const std::string& adapter_dir, torch::Device device) {
  auto model = load_llama(dir, device);
  if (adapter_dir.empty()) return model;
  const auto info = merge_lora_adapter(model, adapter_dir);
  fmt::print(stderr, "adapter: {} merged (LoRA r={}, alpha={}{}, {} projections)\n", adapter_dir, info.r, info.alpha,
             info.rslora ? ", rsLoRA" : "", info.modules.size());
  return model;
}

std::vector<std::string> lora_target_names() {
  auto names = projection_names();
  names.push_back("all-linear");
  return names;
}

std::vector<std::string> expand_lora_targets(const std::vector<std::string>& names, const std::string& label) {
  ST_CHECK_INPUT(!names.empty(), "{}: names no module; give projections ({}) or all-linear", label,
                 fmt::join(projection_names(), ", "));
  for (const auto& n : names)
    ST_CHECK_INPUT(contains(lora_target_names(), n), "{}: '{}' is not a module safetune adapts (supported: {})", label, n,
                   fmt::join(lora_target_names(), ", "));
  std::vector<std::string> out;
  for (const auto& p : projection_names())
    if (contains(names, p) || contains(names, "all-linear")) out.push_back(p);
  return out;
}

NamedTensors attach_lora(LlamaForCausalLM& model, const LoraSettings& settings, uint64_t seed) {
  torch::NoGradGuard no_grad;
  for (auto& p : model->parameters()) p.requires_grad_(false);
  const int64_t n_layers = model->config().num_hidden_layers;
  for (const int64_t layer : settings.layers)
    ST_CHECK_INPUT(layer >= 0 && layer < n_layers, "lora.layers_to_transform: layer {}, but the model has {} (0 to {})",
                   layer, n_layers, n_layers - 1);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& [name, projection] : projections(model)) {
    if (!contains(settings.targets, last_component(name))) continue;
    if (!settings.layers.empty() && !contains(settings.layers, layer_index(name))) continue;
    projection->attach_lora(settings.r, settings.scale(), settings.dropout);
    const double bound = 1.0 / std::sqrt(static_cast<double>(projection->in_features()));
    projection->lora_A->weight.copy_(torch::empty({settings.r, projection->in_features()}).uniform_(-bound, bound, gen));
  }
  return lora_parameters(model);
}

NamedTensors lora_parameters(LlamaForCausalLM& model) {
  NamedTensors out;
  for (auto& item : model->named_parameters())
    if (item.key().find(".lora_A.") != std::string::npos || item.key().find(".lora_B.") != std::string::npos)
      out.emplace_back(item.key(), item.value());
  return out;
}

void save_lora_adapter(const std::string& dir, LlamaForCausalLM& model, const LoraSettings& settings,
                       const std::string& base_model, const std::map<std::string, std::string>& metadata) {
  fs::create_directories(dir);
  NamedTensors tensors;
  for (const auto& [name, t] : lora_parameters(model))
    tensors.emplace_back(std::string(kPrefix) + name, t.detach().to(torch::kCPU, torch::kFloat32).contiguous());
  ST_CHECK(!tensors.empty(), "save_lora_adapter: the model has no adapter attached");
  auto header = metadata;
  header["format"] = "pt";
  save_safetensors((fs::path(dir) / kWeightsFile).string(), tensors, header);
  // The keys PEFT's LoraConfig reads; every other option keeps PEFT's default.
  const json config = {{"peft_type", "LORA"}, {"task_type", "CAUSAL_LM"}, {"base_model_name_or_path", base_model},
                       {"r", settings.r}, {"lora_alpha", settings.alpha}, {"lora_dropout", settings.dropout},
                       {"use_rslora", settings.rslora}, {"target_modules", settings.targets}, {"bias", "none"},
                       {"layers_to_transform", settings.layers.empty() ? json() : json(settings.layers)},
                       {"fan_in_fan_out", false}, {"use_dora", false}, {"init_lora_weights", true},
                       {"inference_mode", true}, {"modules_to_save", nullptr}, {"revision", nullptr}};
  write_text_file_atomic((fs::path(dir) / kConfigFile).string(), config.dump(2) + "\n");
}

std::map<std::string, std::string> load_lora_weights(LlamaForCausalLM& model, const LoraSettings& settings,
                                                     const std::string& dir) {
  const std::string config_path = (fs::path(dir) / kConfigFile).string();
  const std::string weights_path = (fs::path(dir) / kWeightsFile).string();
  const LoraAdapterInfo info = read_adapter_config(config_path);
  ST_CHECK_INPUT(info.r == settings.r && info.alpha == settings.alpha && info.rslora == settings.rslora,
                 "{}: r {}, lora_alpha {}, use_rslora {} differ from this run's lora.r {}, lora.alpha {}, "
                 "lora.use_rslora {}", config_path, info.r, info.alpha, info.rslora, settings.r, settings.alpha,
                 settings.rslora);
  const auto store = TensorStore::open_file(weights_path);
  const auto pairs = read_pairs(store, weights_path, info, parameters_by_name(model));
  for (auto& [name, projection] : projections(model)) {
    if (!projection->has_lora()) {
      ST_CHECK_INPUT(!pairs.count(name), "{}: adapts '{}', which lora.target_modules does not name", weights_path, name);
      continue;
    }
    ST_CHECK_INPUT(pairs.count(name), "{}: has no lora_A/lora_B for '{}', which lora.target_modules names",
                   weights_path, name);
    torch::NoGradGuard no_grad;
    projection->lora_A->weight.copy_(pairs.at(name).first);
    projection->lora_B->weight.copy_(pairs.at(name).second);
  }
  return store.metadata();
}

}  // namespace st
