// models/model_folder.cpp — model folder I/O with exhaustive name and shape checks.
#include "models/model_folder.h"

#include <filesystem>
#include <set>

#include "common/check.h"
#include "common/sha256.h"
#include "common/files.h"
#include "common/stop_signal.h"

namespace st {
namespace fs = std::filesystem;

namespace {
std::string join(const std::vector<std::string>& items, size_t max_items = 20) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < max_items; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > max_items) out += fmt::format(", … ({} more)", items.size() - max_items);
  return out;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

void check_tensors_match(const ShapeList& expected, const TensorStore& store, const std::string& label,
                         const std::vector<std::string>& ignorable) {
  std::vector<std::string> missing, mismatched, unused;
  std::set<std::string> used;
  for (const auto& [name, shape] : expected) {
    auto it = store.entries().find(name);
    if (it == store.entries().end()) {
      missing.push_back(name);
      continue;
    }
    used.insert(name);
    const auto& info = *it->second.info;
    if (info.shape != shape) {
      mismatched.push_back(fmt::format("{} (file {}, model {})", name, fmt::join(info.shape, "x"), fmt::join(shape, "x")));
      continue;
    }
    const auto dtype = info.dtype;
    ST_CHECK_INPUT(dtype == safetensors::DType::F32 || dtype == safetensors::DType::F16 ||
                       dtype == safetensors::DType::BF16 || dtype == safetensors::DType::F64,
                   "{}: tensor '{}' has dtype {}, expected F32, F16, BF16 or F64", it->second.file->path(), name,
                   safetensors::dtype_name(dtype));
  }
  for (const auto& [name, _] : store.entries()) {
    if (used.count(name)) continue;
    bool ignore = false;
    for (const auto& suffix : ignorable) ignore = ignore || ends_with(name, suffix);
    if (!ignore) unused.push_back(name);
  }
  std::vector<std::string> problems;
  if (!missing.empty()) problems.push_back(fmt::format("{} missing tensor(s): {}", missing.size(), join(missing)));
  if (!mismatched.empty())
    problems.push_back(fmt::format("{} shape mismatch(es): {}", mismatched.size(), join(mismatched)));
  if (!unused.empty()) problems.push_back(fmt::format("{} unused tensor(s): {}", unused.size(), join(unused)));
  ST_CHECK_INPUT(problems.empty(), "{}: weights do not match config.json: {}", label, fmt::join(problems, "; "));
}

void load_parameters(torch::nn::Module& module, const TensorStore& store, const std::string& label,
                     const std::vector<std::string>& ignorable) {
  ShapeList expected;
  for (const auto& item : module.named_parameters(/*recurse=*/true))
    expected.emplace_back(item.key(), item.value().sizes().vec());
  check_tensors_match(expected, store, label, ignorable);
  torch::NoGradGuard no_grad;
  for (auto& item : module.named_parameters(/*recurse=*/true)) {
    check_stop("loading weights");
    item.value().copy_(store.tensor(item.key()));
  }
  // NaN weights train to NaN and score nothing as toxic: refuse them by name rather than run on them.
  const auto non_finite = non_finite_parameters(module);
  ST_CHECK_INPUT(non_finite.empty(), "{}: {} tensor(s) hold NaN or infinite values: {}", label, non_finite.size(),
                 join(non_finite));
}

std::vector<std::string> non_finite_parameters(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  std::vector<std::string> out;
  for (const auto& item : module.named_parameters(/*recurse=*/true))
    if (!torch::isfinite(item.value()).all().item<bool>()) out.push_back(item.key());
  return out;
}

ShapeList sizing_tensors(const LlamaConfig& c) {
  const int64_t h = c.hidden_size;
  const std::string last_layer = fmt::format("model.layers.{}.", c.num_hidden_layers - 1);
  return {{"model.embed_tokens.weight", {c.vocab_size, h}},
          {last_layer + "self_attn.q_proj.weight", {c.num_attention_heads * c.head_dim, h}},
          {last_layer + "self_attn.k_proj.weight", {c.num_key_value_heads * c.head_dim, h}},
          {last_layer + "mlp.gate_proj.weight", {c.intermediate_size, h}}};
}

void check_config_sizes(const LlamaConfig& config, const TensorStore& store, const std::string& label) {
  std::vector<std::string> problems;
  for (const auto& [name, shape] : sizing_tensors(config)) {
    const auto it = store.entries().find(name);
    if (it == store.entries().end()) problems.push_back(fmt::format("no tensor '{}'", name));
    else if (it->second.info->shape != shape)
      problems.push_back(fmt::format("'{}' is {} where config.json implies {}", name, fmt::join(it->second.info->shape, "x"),
                                     fmt::join(shape, "x")));
  }
  ST_CHECK_INPUT(problems.empty(), "{}: config.json does not match the weights (vocab_size, hidden_size, "
                 "num_hidden_layers, heads, intermediate_size): {}", label, fmt::join(problems, "; "));
}

std::vector<std::string> ignorable_llama_tensors(const LlamaConfig& config) {
  // Older checkpoints carry rotary inv_freq buffers; a tied model's file may still hold lm_head.weight.
  std::vector<std::string> ignorable = {"rotary_emb.inv_freq"};
  if (config.tie_word_embeddings) ignorable.push_back("lm_head.weight");
  return ignorable;
}

torch::ScalarType dtype_from_config_name(const std::string& name, const std::string& label) {
  if (name == "float32" || name == "fp32") return torch::kFloat32;
  if (name == "bfloat16" || name == "bf16") return torch::kBFloat16;
  if (name == "float16" || name == "fp16") return torch::kFloat16;
  fail_input("{}: dtype '{}' is not supported (float32, bfloat16, float16)", label, name);
}

std::string config_name_from_dtype(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat32: return "float32";
    case torch::kBFloat16: return "bfloat16";
    case torch::kFloat16: return "float16";
    default: fail_runtime("no config name for dtype {}", c10::toString(dtype));
  }
}

LlamaForCausalLM load_llama(const std::string& dir, torch::Device device) {
  ST_CHECK_INPUT(fs::is_directory(dir), "{}: not a folder (expected a Hugging Face model folder)", dir);
  const auto config = LlamaConfig::from_file((fs::path(dir) / "config.json").string());
  const auto store = TensorStore::open_folder(dir);
  check_config_sizes(config, store, dir);  // before building: a config may claim more than the file holds
  LlamaForCausalLM model(config);
  load_parameters(*model, store, dir, ignorable_llama_tensors(config));
  model->to(device);
  return model;
}

NamedTensors named_parameters_for_save(torch::nn::Module& module, torch::ScalarType dtype) {
  NamedTensors out;
  for (auto& item : module.named_parameters(/*recurse=*/true))
    out.emplace_back(item.key(), item.value().detach().to(torch::kCPU, dtype).contiguous());
  return out;
}

void save_llama(const std::string& dir, LlamaForCausalLM& model, const SaveOptions& options) {
  fs::create_directories(dir);
  LlamaConfig config = model->config();
  config.torch_dtype = config_name_from_dtype(options.dtype);
  save_tensor_folder(dir, named_parameters_for_save(*model, options.dtype), {{"format", "pt"}}, options.max_shard_bytes);
  write_text_file_atomic((fs::path(dir) / "config.json").string(), config.to_json().dump(2) + "\n");
  copy_files_into(dir, options.tokenizer_files);
}

std::string parameters_sha256(torch::nn::Module& module) {
  Sha256 h;
  for (const auto& p : module.parameters()) {
    auto cpu = p.detach().to(torch::kCPU).contiguous();
    h.update(cpu.data_ptr(), cpu.nbytes());
  }
  return h.hex_digest();
}

}  // namespace st
