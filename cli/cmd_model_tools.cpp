// cli/cmd_model_tools.cpp — `safetune init-model` (a randomly initialised Llama folder from an
// architecture config, for pre-training tiny models and tests) and `safetune convert` (rewrite a folder
// with another dtype or shard size) and `safetune merge` (a PEFT LoRA adapter merged into its base).
#include <unistd.h>

#include <filesystem>

#include "common/check.h"
#include "common/files.h"
#include "data/tokenizer.h"
#include "models/lora_adapter.h"
#include "models/model_folder.h"
#include "cli/command_line.h"
#include "cli/commands.h"

namespace st {
namespace fs = std::filesystem;

namespace {
SaveOptions save_options(const CommandLine& cl, const std::string& default_dtype) {
  SaveOptions options;
  options.dtype = dtype_from_config_name(cl.value_or("dtype", default_dtype), "--dtype");
  if (auto size = cl.value("max-shard-size")) options.max_shard_bytes = parse_byte_size(*size, "--max-shard-size");
  return options;
}

void refuse_existing_output(const std::string& out, bool overwrite) {
  ST_CHECK_INPUT(!fs::exists(out) || fs::is_directory(out), "{}: exists and is not a folder", out);
  ST_CHECK_INPUT(overwrite || !fs::exists(out) || fs::is_empty(out),
                 "{}: output folder exists and is not empty (pass --overwrite to replace its files)", out);
}
}  // namespace

int run_init_model(const Args& args) {
  CommandLine cl(command_spec("init-model"), args);
  const std::string config_path = *cl.value("config"), out = *cl.value("out");
  auto config = LlamaConfig::from_file(config_path);
  auto options = save_options(cl, cl.text("dtype"));
  if (auto tok_path = cl.value("tokenizer")) {
    const auto tok = open_tokenizer(*tok_path);
    ST_CHECK_INPUT(tok->vocab_size() == config.vocab_size, "{}: vocab_size is {} but {} has {} pieces", config_path,
                   config.vocab_size, *tok_path, tok->vocab_size());
    config.bos_token_id = tok->bos_id();
    config.eos_token_ids = {tok->eos_id()};
    options.tokenizer_files = tokenizer_files(*tok_path);
  }
  refuse_existing_output(out, cl.flag("overwrite"));
  // fp32 weights for the initialisation, twice over while saving: refuse what this machine cannot hold.
  const double need_gb = config.parameter_count() * 4 * 2 / 1e9;
  const double have_gb = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGE_SIZE)) / 1e9;
  ST_CHECK_INPUT(need_gb <= have_gb, "{}: a model of this size ({:.3g} parameters) needs about {:.1f} GB to initialise "
                 "and save; this machine has {:.1f} GB", config_path, config.parameter_count(), need_gb, have_gb);
  create_output_folder(out, "--out");
  LlamaForCausalLM model(config);
  const int64_t seed = cl.integer("seed");
  model->init_weights(static_cast<uint64_t>(seed));
  save_llama(out, model, options);
  fmt::print("wrote {} (random init, seed {})\n", out, seed);
  return 0;
}

namespace {
// Rewrites the model of folder `in` (with a LoRA adapter merged when `adapter` is set) into `out`.
int rewrite_model(const CommandLine& cl, const std::string& in, const std::string& adapter, const std::string& out,
                  const std::string& out_key) {
  ST_CHECK_INPUT(fs::weakly_canonical(in) != fs::weakly_canonical(out), "{}: the output folder must differ from the input", out);
  auto options = save_options(cl, "float32");  // options are checked before the (possibly long) load
  auto model = load_llama_with_adapter(in, adapter);
  if (!cl.value("dtype")) options.dtype = dtype_from_config_name(model->config().torch_dtype, in + "/config.json");
  options.tokenizer_files = tokenizer_files(in);  // whatever tokenizer files the folder has, none included
  refuse_existing_output(out, cl.flag("overwrite"));
  create_output_folder(out, out_key);
  save_llama(out, model, options);
  fmt::print("wrote {} ({})\n", out, config_name_from_dtype(options.dtype));
  return 0;
}
}  // namespace

int run_convert(const Args& args) {
  CommandLine cl(command_spec("convert"), args);
  return rewrite_model(cl, cl.positional()[0], "", cl.positional()[1], "OUT_DIR");
}

int run_merge(const Args& args) {
  CommandLine cl(command_spec("merge"), args);
  return rewrite_model(cl, *cl.value("base"), *cl.value("adapter"), *cl.value("out"), "--out");
}

}  // namespace st
