// cli/cmd_eval.cpp — `safetune eval --model DIR --config FILE`: the same evaluation a run makes every
// eval.every_steps, on any model folder: a table on stdout, the JSON report and the generations on request.

#include "common/check.h"
#include "common/files.h"
#include "data/data_reader.h"
#include "data/tokenizer.h"
#include "models/lora_adapter.h"
#include "models/model_folder.h"
#include "trainer/model_tokenizer.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "trainer/config.h"
#include "trainer/eval/evaluation.h"

namespace st {
using json = nlohmann::json;

int run_eval(const Args& args) {
  CommandLine cl(command_spec("eval"), args);
  const auto source = resolve_model_source(*cl.value("model"), cl.text("adapter"));
  const std::string& dir = source.base;
  auto config = Config::load(*cl.value("config"), cl.values("set"), eval_config_schema()).run_config();
  config.data.options.chat = resolve_chat_format(config.data.options.chat_template, dir);
  const auto tokenizer_owner = open_tokenizer(dir);
  const Tokenizer& tokenizer = *tokenizer_owner;
  std::vector<Example> validation;
  if (!config.data.validation.empty()) {
    DataStats stats;
    validation = read_examples(config.data.validation, tokenizer, config.data.options, stats);
  }
  auto settings = EvalSettings::from_config(config, std::move(validation));
  ST_CHECK_INPUT(settings.generates() || !settings.validation.empty(),
                 "{}: nothing to evaluate; set eval.harmful, eval.benign or data.validation", config.source);
  Evaluator evaluator(std::move(settings), tokenizer);
  auto model = load_llama_with_adapter(dir, source.adapter);
  check_tokenizer_matches_model(tokenizer, model->config(), dir + "/config.json");
  model->eval();
  std::vector<json> generations;
  json report = evaluator.run(model, &generations);
  report["model"] = dir;
  if (!source.adapter.empty()) report["adapter"] = source.adapter;
  report["config"] = config.source;
  fmt::print("{}", Evaluator::table(report));
  if (auto out = cl.value("out")) write_text_file_atomic(*out, report.dump(2) + "\n");
  if (auto out = cl.value("generations")) {
    std::string text;
    for (const auto& g : generations) text += g.dump() + "\n";
    write_text_file_atomic(*out, text);
  }
  return 0;
}

}  // namespace st
