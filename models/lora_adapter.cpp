// models/lora_adapter.cpp — reading PEFT LoRA adapters and merging them into the base weights.
#include "models/lora_adapter.h"

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <map>
#include <string_view>

#include "common/check.h"
#include "common/json_file.h"
#include "models/model_folder.h"
#include "models/safetensors.h"

namespace st {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr std::string_view kPrefix = "base_model.model.";  // PEFT's name for the wrapped model in saved keys
constexpr std::string_view kSuffixA = ".lora_A.weight", kSuffixB = ".lora_B.weight";  // the same length
const char* const kProjections[] = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};

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
  const std::pair<const char*, json> unsupported[] = {
      {"fan_in_fan_out", false}, {"bias", "none"}, {"use_dora", false}, {"lora_bias", false}, {"modules_to_save", nullptr},
      {"layers_to_transform", nullptr}, {"layer_replication", nullptr}, {"rank_pattern", json::object()},
      {"alpha_pattern", json::object()}, {"target_parameters", nullptr}, {"trainable_token_indices", nullptr}};
  for (const auto& [key, neutral] : unsupported) {
    if (!c.contains(key) || c[key] == neutral || c[key].is_null() || (c[key].is_object() && c[key].empty())) continue;
    fail_input("{}: '{}' is {}, which safetune does not apply (only plain LoRA on the linear projections)", path, key,
               json_excerpt(c[key]));
  }
  return info;
}

bool is_projection(const std::string& module) {
  const std::string last = module.substr(module.rfind('.') + 1);
  for (const char* p : kProjections)
    if (last == p) return true;
  return false;
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
                   "a projection of this model (supported: {})", file, name, module, fmt::join(kProjections, ", "));
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
  const std::string config_path = (fs::path(adapter_dir) / "adapter_config.json").string();
  const std::string weights_path = (fs::path(adapter_dir) / "adapter_model.safetensors").string();
  ST_CHECK_INPUT(fs::is_directory(adapter_dir), "{}: adapter folder not found", adapter_dir);
  ST_CHECK_INPUT(fs::exists(weights_path), "{}: not found (a PEFT adapter folder holds adapter_config.json and "
                 "adapter_model.safetensors; .bin adapters are not read)", weights_path);
  LoraAdapterInfo info = read_adapter_config(config_path);
  std::map<std::string, torch::Tensor> weights;
  for (auto& item : model->named_parameters()) weights[item.key()] = item.value();
  const auto pairs = read_pairs(TensorStore::open_file(weights_path), weights_path, info, weights);
  torch::NoGradGuard no_grad;
  for (const auto& [module, ab] : pairs) {
    auto& w = weights.at(module + ".weight");
    w.add_(torch::mm(ab.second, ab.first).to(w.device()), /*alpha=*/info.scale);  // [out, r] x [r, in]
    info.modules.push_back(module);
  }
  return info;
}

LlamaForCausalLM load_llama_with_adapter(const std::string& dir, const std::string& adapter_dir, torch::Device device) {
  auto model = load_llama(dir, device);
  if (adapter_dir.empty()) return model;
  const auto info = merge_lora_adapter(model, adapter_dir);
  fmt::print(stderr, "adapter: {} merged (LoRA r={}, alpha={}{}, {} projections)\n", adapter_dir, info.r, info.alpha,
             info.rslora ? ", rsLoRA" : "", info.modules.size());
  return model;
}

}  // namespace st
