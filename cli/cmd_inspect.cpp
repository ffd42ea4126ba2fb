// cli/cmd_inspect.cpp — `safetune inspect PATH`: what a model folder or safetensors file holds
// (architecture, parameter count, dtypes, tensors), validating everything it reads.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <map>

#include "common/check.h"
#include "data/tokenizer.h"
#include "models/llama.h"
#include "models/model_folder.h"
#include "models/safetensors.h"
#include "cli/command_line.h"
#include "cli/commands.h"

namespace st {
namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace {

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

json describe_tensors(const std::vector<std::shared_ptr<SafetensorsFile>>& files, const fs::path& base) {
  json tensors = json::array();
  for (const auto& f : files)
    for (const auto& t : f->tensors())
      tensors.push_back({{"name", t.name}, {"dtype", safetensors::dtype_name(t.dtype)}, {"shape", t.shape},
                         {"file", fs::relative(f->path(), base).string()}});
  std::sort(tensors.begin(), tensors.end(), [](const json& a, const json& b) { return a["name"] < b["name"]; });
  return tensors;
}

json describe_files(const std::vector<std::shared_ptr<SafetensorsFile>>& files, const fs::path& base) {
  json out = json::array();
  for (const auto& f : files)
    out.push_back({{"file", fs::relative(f->path(), base).string()}, {"bytes", fs::file_size(f->path())},
                   {"tensors", f->tensors().size()}, {"metadata", f->metadata()}});
  return out;
}

json dtype_counts(const json& tensors) {
  std::map<std::string, int64_t> counts;
  for (const auto& t : tensors) counts[t["dtype"].get<std::string>()] += 1;
  return counts;
}

json inspect_file(const std::string& path) {
  auto file = SafetensorsFile::open(path);
  const fs::path base = fs::path(path).parent_path();
  json tensors = describe_tensors({file}, base);
  int64_t total = 0;
  for (const auto& t : file->tensors()) total += numel(t.shape);
  return {{"path", path}, {"kind", "safetensors_file"}, {"elements", total}, {"dtypes", dtype_counts(tensors)},
          {"files", describe_files({file}, base)}, {"tensors", tensors}};
}

// The folder's tokenizer, whichever format it is in; null when the folder has none.
json describe_tokenizer(const std::string& dir, const LlamaConfig& config) {
  const auto source = find_tokenizer(dir);
  if (source.format == nullptr) return nullptr;
  const auto tok = source.format->open(source.vocabulary_file);
  ST_CHECK_INPUT(tok->vocab_size() <= config.vocab_size, "{}: tokenizer has {} pieces but config.json vocab_size is {}",
                 source.vocabulary_file, tok->vocab_size(), config.vocab_size);
  json files = json::array();
  for (const auto& f : tokenizer_files(dir)) files.push_back(f.name);
  return {{"format", tok->format()}, {"file", fs::path(source.vocabulary_file).filename().string()},
          {"pieces", tok->vocab_size()}, {"bos_id", tok->bos_id()}, {"eos_id", tok->eos_id()},
          {"pad_id", tok->pad_id()}, {"unk_id", tok->unk_id()}, {"files", files}};
}

json inspect_folder(const std::string& dir) {
  const auto config = LlamaConfig::from_file((fs::path(dir) / "config.json").string());
  const auto store = TensorStore::open_folder(dir);
  const auto shapes = llama_parameter_shapes(config);
  check_tensors_match(shapes, store, dir, ignorable_llama_tensors(config));
  int64_t params = 0;
  for (const auto& [_, shape] : shapes) params += numel(shape);

  const json tokenizer = describe_tokenizer(dir, config);
  json rope = {{"type", rope_type_name(config.rope.type)}, {"theta", config.rope.theta}};
  if (config.rope.type != RopeType::Default) rope["factor"] = config.rope.factor;
  if (config.rope.type == RopeType::Llama3) {
    rope["low_freq_factor"] = config.rope.low_freq_factor;
    rope["high_freq_factor"] = config.rope.high_freq_factor;
    rope["original_max_position_embeddings"] = config.rope.original_max_position_embeddings;
  }
  json tensors = describe_tensors(store.files(), dir);
  return {{"path", dir},
          {"kind", "model_folder"},
          {"architecture", "LlamaForCausalLM"},
          {"config",
           {{"vocab_size", config.vocab_size}, {"hidden_size", config.hidden_size},
            {"intermediate_size", config.intermediate_size}, {"num_hidden_layers", config.num_hidden_layers},
            {"num_attention_heads", config.num_attention_heads}, {"num_key_value_heads", config.num_key_value_heads},
            {"head_dim", config.head_dim}, {"max_position_embeddings", config.max_position_embeddings},
            {"tie_word_embeddings", config.tie_word_embeddings}, {"model_type", config.model_type},
            {"attention_bias", config.qkv_bias && config.o_bias}, {"qkv_bias", config.qkv_bias}, {"o_bias", config.o_bias},
            {"mlp_bias", config.mlp_bias}, {"torch_dtype", config.torch_dtype}, {"rope", rope}}},
          {"parameters", params},
          {"dtypes", dtype_counts(tensors)},
          {"tokenizer", tokenizer},
          {"files", describe_files(store.files(), dir)},
          {"tensors", tensors}};
}

std::string with_commas(int64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

void print_human(const json& r) {
  fmt::print("{}  ({})\n", r["path"].get<std::string>(), r["kind"].get<std::string>());
  if (r["kind"] == "model_folder") {
    const auto& c = r["config"];
    fmt::print("architecture  {}: {} layers, hidden {}, intermediate {}, heads {} (kv {}, head_dim {}), vocab {}\n",
               r["architecture"].get<std::string>(), c["num_hidden_layers"].get<int64_t>(),
               c["hidden_size"].get<int64_t>(), c["intermediate_size"].get<int64_t>(),
               c["num_attention_heads"].get<int64_t>(), c["num_key_value_heads"].get<int64_t>(),
               c["head_dim"].get<int64_t>(), c["vocab_size"].get<int64_t>());
    fmt::print("rope          {}\n", c["rope"].dump());
    fmt::print("embeddings    {}; max positions {}; saved as {}\n",
               c["tie_word_embeddings"].get<bool>() ? "tied" : "untied", c["max_position_embeddings"].get<int64_t>(),
               c["torch_dtype"].get<std::string>());
    fmt::print("parameters    {}\n", with_commas(r["parameters"].get<int64_t>()));
    if (r["tokenizer"].is_null()) {
      fmt::print("tokenizer     none (no tokenizer file)\n");
    } else {
      const auto& t = r["tokenizer"];
      fmt::print("tokenizer     {} ({}), {} pieces, bos={} eos={} pad={} unk={}\n", t["format"].get<std::string>(),
                 t["file"].get<std::string>(), t["pieces"].get<int>(), t["bos_id"].get<int>(), t["eos_id"].get<int>(),
                 t["pad_id"].get<int>(), t["unk_id"].get<int>());
    }
  } else {
    fmt::print("elements      {}\n", with_commas(r["elements"].get<int64_t>()));
  }
  std::string dtypes;
  for (const auto& [k, v] : r["dtypes"].items()) dtypes += fmt::format("{}{} ×{}", dtypes.empty() ? "" : ", ", k, v.get<int64_t>());
  fmt::print("dtypes        {}\n", dtypes.empty() ? "(no tensors)" : dtypes);
  for (const auto& f : r["files"])
    fmt::print("file          {} ({} bytes, {} tensors)\n", f["file"].get<std::string>(), f["bytes"].get<uint64_t>(),
               f["tensors"].get<int64_t>());
  fmt::print("tensors:\n");
  for (const auto& t : r["tensors"])
    fmt::print("  {:<56} {:<5} [{}]\n", t["name"].get<std::string>(), t["dtype"].get<std::string>(),
               fmt::join(t["shape"].get<std::vector<int64_t>>(), ", "));
}

}  // namespace

int run_inspect(const Args& args) {
  CommandLine cl(command_spec("inspect"), args);
  const std::string path = cl.positional()[0];
  ST_CHECK_INPUT(fs::exists(path), "{}: no such file or folder", path);
  const json report = fs::is_directory(path) ? inspect_folder(path) : inspect_file(path);
  if (cl.flag("json")) {
    fmt::print("{}\n", report.dump(2));
  } else {
    print_human(report);
  }
  return 0;
}

}  // namespace st
