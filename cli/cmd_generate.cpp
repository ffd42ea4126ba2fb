// cli/cmd_generate.cpp — `safetune generate --model DIR [--prompt TEXT | --input FILE.jsonl] ...`:
// the model's chat template around each prompt, batched KV-cache decoding, stop at EOS, JSONL out
// ({"prompt", "response", "tokens", "stopped"} per prompt, plus "line" for file input).

#include "common/check.h"
#include "common/json_file.h"
#include "data/examples.h"
#include "data/tokenizer.h"
#include "models/generation.h"
#include "models/lora_adapter.h"
#include "models/model_folder.h"
#include "trainer/model_tokenizer.h"
#include "cli/command_line.h"
#include "cli/commands.h"

namespace st {
using json = nlohmann::json;


int run_generate(const Args& args) {
  static const CommandSpec& spec = command_spec("generate");
  CommandLine cl(spec, args);
  ST_CHECK_INPUT(cl.value("prompt").has_value() != cl.value("input").has_value(),
                 "generate: give exactly one of --prompt and --input (usage: safetune {})", spec.usage);
  const auto source = resolve_model_source(*cl.value("model"), cl.text("adapter"));
  const std::string& dir = source.base;
  GenerationOptions o;
  o.max_new_tokens = cl.integer("max-new-tokens");  // ranges are declared with the options (cli/commands.cpp)
  o.temperature = *cl.number("temperature");
  o.top_p = *cl.number("top-p");
  o.seed = static_cast<uint64_t>(cl.integer("seed"));
  const int64_t batch_size = cl.integer("batch-size");
  DataOptions template_options;
  template_options.chat = resolve_chat_format(cl.text("template"), dir);
  template_options.system_prompt = cl.text("system");

  // Prompts with their provenance.
  std::vector<std::string> prompts;
  std::vector<int64_t> lines;
  if (auto p = cl.value("prompt")) {
    prompts.push_back(*p);
    lines.push_back(0);
  } else {
    const std::string file = *cl.value("input");
    read_jsonl(file, [&](const json& j, int64_t n) {
      ST_CHECK_INPUT(j.contains("prompt") && j["prompt"].is_string(), "{}:{}: expected a JSON object with a string \"prompt\"",
                     file, n);
      prompts.push_back(j["prompt"].get<std::string>());
      lines.push_back(n);
    });
    ST_CHECK_INPUT(!prompts.empty(), "{}: no prompts", file);
  }

  auto model = load_llama_with_adapter(dir, source.adapter);
  model->eval();
  const auto tokenizer = open_tokenizer(dir);
  const Tokenizer& tok = *tokenizer;
  check_tokenizer_matches_model(tok, model->config(), dir + "/config.json");
  o.stop_ids = generation_stop_ids(tok, template_options);
  for (size_t start = 0; start < prompts.size(); start += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(prompts.size(), start + static_cast<size_t>(batch_size));
    std::vector<std::vector<int>> ids;
    for (size_t i = start; i < end; ++i)
      ids.push_back(apply_chat_template({{"user", prompts[i]}}, tok, template_options).input_ids);
    GenerationOptions batch_options = o;
    batch_options.seed = o.seed + start;  // each batch its own stream; the same command gives the same output
    const auto out = generate(model, ids, batch_options, tok.pad_id());
    for (size_t i = start; i < end; ++i) {
      auto tokens = out[i - start];
      const bool stopped = !tokens.empty() && std::count(o.stop_ids.begin(), o.stop_ids.end(), tokens.back()) > 0;
      json row = {{"prompt", prompts[i]}, {"response", tok.decode(tokens)}, {"tokens", tokens.size()}, {"stopped", stopped}};
      if (lines[i] > 0) row["line"] = lines[i];
      fmt::print("{}\n", row.dump());
    }
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace st
