// cli/cmd_memory.cpp — `safetune memory`: device memory of full fine-tuning and LoRA for a model's
// architecture, from trainer/memory_estimate (parameter shapes as built; activations measured on CPU).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <sstream>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "common/check.h"
#include "models/lora_adapter.h"
#include "trainer/memory_estimate.h"

namespace st {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string gb(double bytes) { return fmt::format("{:.1f}", bytes / 1e9); }

// The smallest of the common GPU sizes the estimate fits in.
std::string fits(double bytes) {
  for (double size : {24.0, 48.0, 80.0})
    if (bytes < size * 1e9) return fmt::format("{:.0f} GB", size);
  return "> 80 GB";
}
}  // namespace

int run_memory(const Args& args) {
  static const CommandSpec& spec = command_spec("memory");
  CommandLine cl(spec, args);
  const std::string model = cl.text("model");
  const std::string path = fs::is_directory(model) ? (fs::path(model) / "config.json").string() : model;
  const auto config = LlamaConfig::from_file(path);
  MemoryPlan lora;
  lora.lora = true;
  lora.r = cl.integer("lora-r");
  lora.targets = expand_lora_targets(split_commas(cl.text("lora-targets")), "--lora-targets");
  lora.base_dtype = torch::kBFloat16;
  lora.batch = cl.integer("batch-size");
  lora.seq_len = cl.integer("seq-len");
  MemoryPlan full = lora;
  full.lora = false;
  full.base_dtype = torch::kFloat32;
  fmt::print(stderr, "memory: measuring one and two layers' activations on CPU (a minute for a 7B architecture)\n");
  const auto full_layer = measure_layer_activations(config, full), lora_layer = measure_layer_activations(config, lora);
  const std::string targets = lora.targets.size() == projection_names().size() ? "all-linear" : fmt::format("{}", fmt::join(lora.targets, ","));

  json rows = json::array();
  for (const auto* plan : {&full, &lora})
    for (bool checkpointing : {false, true}) {
      MemoryPlan p = *plan;
      p.activation_checkpointing = checkpointing;
      const auto m = estimate_training_memory(config, p, p.lora ? lora_layer : full_layer);
      const std::string name = fmt::format("{}{}", p.lora ? fmt::format("LoRA r={} {}, bf16 base", p.r, targets)
                                                          : std::string("full, fp32 weights"),
                                           checkpointing ? " + checkpointing" : "");
      rows.push_back({{"run", name}, {"trainable", m.trainable}, {"parameters", m.parameters}, {"weights_bytes", m.weights},
                      {"gradients_bytes", m.gradients}, {"optimizer_bytes", m.optimizer},
                      {"activations_bytes", m.activations}, {"total_bytes", m.total()}});
    }
  if (cl.flag("json")) {
    fmt::print("{}\n", json{{"config", path}, {"batch", lora.batch}, {"seq_len", lora.seq_len},
                            {"layer_activation_bytes_per_token", {{"full", full_layer.per_token}, {"lora", lora_layer.per_token}}},
                            {"rows", rows}}.dump(2));
    return 0;
  }
  fmt::print("{}: {:.2f}B parameters, {} layers; micro-batch {} x {} tokens; AdamW; bf16 compute (autocast)\n", path,
             static_cast<double>(rows[0]["parameters"].get<int64_t>()) / 1e9, config.num_hidden_layers, lora.batch, lora.seq_len);
  fmt::print("| run | trainable | weights GB | gradients GB | AdamW GB | activations GB | total GB | fits |\n|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : rows)
    fmt::print("| {} | {:.1f}M | {} | {} | {} | {} | {} | {} |\n", r["run"].get<std::string>(),
               static_cast<double>(r["trainable"].get<int64_t>()) / 1e6, gb(r["weights_bytes"]), gb(r["gradients_bytes"]),
               gb(r["optimizer_bytes"]), gb(r["activations_bytes"]), gb(r["total_bytes"]), fits(r["total_bytes"]));
  return 0;
}

}  // namespace st
