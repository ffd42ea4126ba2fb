// cli/commands.cpp — every subcommand's command line, declared once: its summary, arguments, options
// (name, value, meaning, default) and examples. The parser, its error messages, `safetune COMMAND --help`
// and the `safetune --help` list all read these declarations.
#include "cli/commands.h"

#include <fmt/ranges.h>

#include "common/check.h"

namespace st {

namespace {

OptionSpec config_option(const std::string& what) {
  return option("config", "FILE", what + " (JSON, comments allowed; relative paths are relative to it)").set_required();
}

OptionSpec set_option() {
  return option("set", "KEY=VALUE", "override one config key, e.g. train.max_steps=100; `safetune config defaults` "
                                    "lists the keys")
      .set_repeatable();
}

OptionSpec dtype_option(const std::string& help) { return option("dtype", "float32|bfloat16|float16", help); }

OptionSpec max_shard_option() {
  return option("max-shard-size", "SIZE",
                "split the weights into files of at most SIZE (2GB, 500MB, 1048576) with a "
                "model.safetensors.index.json; without it, one model.safetensors");
}

OptionSpec adapter_option() {
  return option("adapter", "DIR", "a PEFT LoRA adapter folder to merge into the model first; without it, none");
}

// The chat template choice: "auto" reads the model folder's chat_template (data/chat_format.h).
OptionSpec template_option(const std::string& what) {
  return option("template", "auto|llama2|llama3|chatml|mistral|plain", what + "; auto = the model folder's chat_template")
      .set_default("auto");
}

OptionSpec overwrite_flag() {
  return flag("overwrite", "write into an output folder that is not empty, replacing its files");
}

CommandSpec train_spec() {
  return {"train",
          "fine-tune a model folder on JSONL data (checkpoints, resume, metrics)",
          {},
          {config_option("the run's config"), set_option(),
           option("resume", "auto|never|restart|PATH",
                  "auto: continue train.output_dir from its newest valid checkpoint (exit 2 when it has checkpoints "
                  "and none is usable); never: refuse a run folder that has checkpoints; restart: start over at step 0, "
                  "setting the old checkpoints and metrics aside (renamed, not deleted); PATH: continue from that "
                  "checkpoint folder")
               .set_default("auto")},
          {"safetune train --config configs/demo.json",
           "safetune train --config configs/demo.json --set train.output_dir=runs/demo/penalty --set safety.lambda=1",
           "safetune train --config configs/demo.json --resume never"}};
}

CommandSpec config_spec() {
  return {"config",
          "print every config key with its default, or validate a config file",
          {"defaults | validate FILE", 1, 2,
           "defaults: every key with its default and meaning; validate FILE: check FILE and every input file and "
           "folder it names, and print it resolved"},
          {set_option(), flag("markdown", "defaults: print the keys as a Markdown table (the README's list)")},
          {"safetune config defaults", "safetune config defaults --markdown",
           "safetune config validate configs/demo.json --set safety.lambda=0.3"}};
}

CommandSpec report_spec() {
  return {"report",
          "one self-contained HTML page of a run's or several runs' curves, evaluations and incidents",
          {"RUN_DIR [RUN_DIR...]", 1, 64, "run folders (train.output_dir); several are compared in one page"},
          {option("out", "FILE.html", "where to write the page").set_required()},
          {"safetune report runs/demo/plain --out plain.html",
           "safetune report runs/demo/plain runs/demo/penalty --out compare.html"}};
}

CommandSpec eval_spec() {
  return {"eval",
          "refusal, toxicity and over-refusal rates on prompt sets, validation loss and exact match",
          {},
          {option("model", "DIR", "model folder to evaluate (config.json, safetensors, tokenizer files), or a PEFT adapter folder "
                  "such as a LoRA run's final/ (on the base its adapter_config.json names)").set_required(),
           config_option("a run's config, or one with only eval.*, data.validation, data.template, safety.classifier or "
                         "safety.harm_judge"),
           set_option(), option("out", "REPORT.json", "also write the report as JSON; without it, only the table"),
           option("generations", "FILE.jsonl", "also write every generated response; without it, none are written"),
           adapter_option()},
          {"safetune eval --model runs/demo/plain/final --config configs/demo.json",
           "safetune eval --model runs/demo/plain/final --config configs/demo.json --out eval.json --generations gen.jsonl"}};
}

CommandSpec judge_spec() {
  return {"judge",
          "judge responses you already have ({prompt, response} JSONL from any model): refusal verdicts, P(toxic) with a "
          "classifier, rates with 95% intervals",
          {},
          {option("input", "FILE.jsonl", "one {\"prompt\", \"response\", \"category\"?} object per line").set_required(),
           option("out", "FILE.jsonl", "where to write each line with its verdicts; without it, stdout (the summary goes to stderr)"),
           option("classifier", "DIR", "toxicity classifier folder (train-classifier): adds p_toxic and toxic; without it (and "
                  "without one in --config), no toxicity"),
           option("threshold", "T", "P(toxic) above which a response is toxic; without it, the classifier's own").set_range(0, 1),
           option("config", "FILE", "take eval.refusal_rule, eval.refusal_phrases, eval.judge (and safety.harm_judge or "
                  "safety.classifier, unless --classifier) from a run's config; without it, the default rule (cues)"),
           option("label", "KEY", "a boolean field of each line holding a human verdict (true = refusal): adds precision, "
                  "recall and F1 of the refusal rule against it; without it, verdicts only"),
           option("by", "KEY", "the string field the summary is broken down by").set_default("category"),
           set_option()},
          {"safetune judge --input responses.jsonl",
           "safetune judge --input responses.jsonl --config configs/demo.json --out judged.jsonl",
           "safetune judge --input tests/fixtures/refusal_corpus/test.jsonl --label human_refusal --by style --out /dev/null"}};
}

CommandSpec generate_spec() {
  return {"generate",
          "continue prompts with a model (chat template, KV cache, EOS stop), JSONL out",
          {},
          {option("model", "DIR", "model folder (config.json, safetensors, tokenizer files), or a PEFT adapter folder such as "
                  "a LoRA run's final/ (on the base its adapter_config.json names)").set_required(),
           option("prompt", "TEXT", "one prompt to continue; without it, --input is required (give exactly one)"),
           option("input", "FILE.jsonl",
                  "prompts, one {\"prompt\": ...} per line; without it, --prompt is required (give exactly one)"),
           option("max-new-tokens", "N", "most tokens generated per prompt").set_default("128").set_range(1, 65536),
           option("temperature", "T", "sampling temperature; 0 is greedy").set_default("0").set_range(0, 100),
           option("top-p", "P", "nucleus sampling: keep the smallest set of tokens with this much probability")
               .set_default("1")
               .set_range(1e-6, 1),
           option("seed", "S", "random seed for sampling; the same seed gives the same output").set_default("0").set_range(0, 9007199254740991.0),
           option("batch-size", "B", "prompts decoded together").set_default("16").set_range(1, 4096),
           template_option("chat template around each prompt"), adapter_option(),
           option("system", "TEXT", "system prompt for the template; without it, the template's own (if any)")},
          {"safetune generate --model runs/demo/plain/final --prompt 'How do I boil an egg?'",
           "safetune generate --model runs/demo/plain/final --input prompts.jsonl --temperature 0.8 --top-p 0.9 --seed 3"}};
}

CommandSpec sweep_spec() {
  return {"sweep",
          "one run per combination of config values (e.g. safety.lambda), then a comparison table",
          {},
          {config_option("the runs' config"),
           option("grid", "KEY=V1,V2",
                  "a config key and its values; several --grid flags sweep every combination, one run folder "
                  "<train.output_dir>.KEY=V[,KEY2=V2...] each")
               .set_required()
               .set_repeatable(),
           set_option(),
           option("resume", "auto|never", "passed to each run's `safetune train --resume`").set_default("auto")},
          {"safetune sweep --config configs/demo.json --grid safety.lambda=0,0.1,0.3,1",
           "safetune sweep --config configs/demo.json --grid safety.lambda=0,1 --grid optim.lr=1e-3,2e-3"}};
}

CommandSpec train_classifier_spec() {
  return {"train-classifier",
          "train the frozen toxicity classifier on labelled JSONL (AUROC, threshold)",
          {},
          {config_option("the classifier's config (classifier.*, data.train, train.*)"), set_option()},
          {"safetune train-classifier --config configs/demo_classifier.json"}};
}

CommandSpec score_spec() {
  return {"score",
          "score texts with a toxicity classifier (JSONL file or stdin), JSONL out",
          {},
          {option("classifier", "DIR", "classifier folder written by train-classifier").set_required(),
           option("input", "FILE.jsonl", "texts, one {\"text\": ...} per line; without it, each line of stdin is one text"),
           option("threshold", "T", "P(toxic) above which a text counts as toxic; without it, the classifier's own").set_range(0, 1)},
          {"safetune score --classifier runs/demo/classifier --input data.jsonl",
           "echo 'some text' | safetune score --classifier runs/demo/classifier --threshold 0.5"}};
}

CommandSpec tokenize_spec() {
  return {"tokenize",
          "encode text with a model folder's tokenizer (tokenizer.json or tokenizer.model), ids as JSONL; with --chat "
          "through the chat template, as training and generation see it",
          {},
          {option("model", "DIR", "model folder (or loose tokenizer file) whose tokenizer encodes").set_required(),
           option("text", "TEXT", "one text to encode (with --chat: a user prompt); without it, --input is required "
                  "(give exactly one)"),
           option("input", "FILE.jsonl", "one JSON string or {\"text\": ...} per line; with --chat also training "
                  "records ({\"prompt\", \"completion\"}, {\"messages\"}); without it, --text is required"),
           flag("chat", "apply the chat template: a string becomes a user prompt ending in the assistant cue, a record "
                "a training example; \"loss_mask\" marks the tokens the loss trains"),
           template_option("with --chat: the chat template"),
           flag("special", "match special-token text (\"<|im_end|>\") as the token, as `tokenizers` does by default; "
                "without it such text is literal, as in training data"),
           flag("count", "print only the number of texts and tokens and the encoding rate (for benchmarks)")},
          {"safetune tokenize --model runs/demo/base/final --text 'Hello, world'",
           "safetune tokenize --model downloads/SmolLM2-135M-Instruct --chat --input train.jsonl",
           "safetune tokenize --model downloads/SmolLM2-135M-Instruct --input texts.jsonl --count"}};
}

CommandSpec inspect_spec() {
  return {"inspect",
          "show a model folder's or safetensors file's architecture, dtypes and tensors",
          {"PATH", 1, 1, "a model folder or one .safetensors file"},
          {flag("json", "print the report as JSON instead of text")},
          {"safetune inspect runs/demo/base/final", "safetune inspect --json model.safetensors"}};
}

CommandSpec init_model_spec() {
  return {"init-model",
          "write a randomly initialised Llama model folder from an architecture config",
          {},
          {option("config", "ARCH.json", "architecture, as a Hugging Face config.json").set_required(),
           option("out", "DIR", "model folder to write").set_required(),
           option("tokenizer", "tokenizer.model",
                  "sentencepiece model to copy in (its vocabulary must match; sets bos/eos ids); without it, none"),
           option("seed", "N", "random seed of the initialisation").set_default("0").set_range(0, 9007199254740991.0),
           dtype_option("dtype of the saved weights").set_default("float32"),
           max_shard_option(), overwrite_flag()},
          {"safetune init-model --config configs/tiny_llama.json --tokenizer tokenizer.model --out runs/tiny"}};
}

CommandSpec merge_spec() {
  return {"merge",
          "merge a PEFT LoRA adapter into its base model and write a Hugging Face folder",
          {},
          {option("base", "DIR", "the base model folder the adapter was trained on").set_required(),
           option("adapter", "DIR", "the PEFT adapter folder (adapter_config.json, adapter_model.safetensors)").set_required(),
           option("out", "DIR", "the merged model folder to write").set_required(),
           dtype_option("dtype of the saved weights; without it, the base's torch_dtype"), max_shard_option(),
           overwrite_flag()},
          {"safetune merge --base downloads/SmolLM2-135M-Instruct --adapter runs/lora/final --out runs/lora-merged"}};
}

CommandSpec memory_spec() {
  return {"memory",
          "how much device memory full fine-tuning and LoRA of a model need, with and without activation checkpointing",
          {},
          {option("model", "DIR|config.json", "a model folder (only its config.json is read) or a config.json").set_required(),
           option("batch-size", "B", "sequences per micro-batch").set_default("1").set_range(1, 4096),
           option("seq-len", "T", "tokens per sequence").set_default("2048").set_range(8, 1 << 20),
           option("lora-r", "R", "the adapters' rank r").set_default("16").set_range(1, 4096),
           option("lora-targets", "LIST", "comma-separated projections, or all-linear").set_default("all-linear"),
           flag("json", "print the estimates as JSON")},
          {"safetune memory --model downloads/SmolLM2-135M-Instruct",
           "safetune memory --model configs/models/llama-2-7b.json --seq-len 4096 --lora-r 64"}};
}

CommandSpec convert_spec() {
  return {"convert",
          "rewrite a model folder with another dtype or shard size",
          {"IN_DIR OUT_DIR", 2, 2, "the model folder to read and the one to write"},
          {dtype_option("dtype of the saved weights; without it, the input's torch_dtype"), max_shard_option(),
           overwrite_flag()},
          {"safetune convert runs/demo/plain/final runs/plain-bf16 --dtype bfloat16 --max-shard-size 2GB"}};
}

}  // namespace

const std::vector<Command>& commands() {
  static const std::vector<Command> all = {
      {train_spec(), run_train},
      {config_spec(), run_config},
      {report_spec(), run_report},
      {eval_spec(), run_eval},
      {judge_spec(), run_judge},
      {generate_spec(), run_generate},
      {sweep_spec(), run_sweep},
      {train_classifier_spec(), run_train_classifier},
      {score_spec(), run_score},
      {inspect_spec(), run_inspect},
      {tokenize_spec(), run_tokenize},
      {init_model_spec(), run_init_model},
      {convert_spec(), run_convert},
      {merge_spec(), run_merge},
      {memory_spec(), run_memory},
  };
  return all;
}

const Command& find_command(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& c : commands()) {
    if (c.spec.name == name) return c;
    names.push_back(c.spec.name);
  }
  const auto hint = nearest(name, names);
  fail_input("unknown command '{}' ({}); run 'safetune --help'", name,
             hint.empty() ? fmt::format("commands: {}", fmt::join(names, ", ")) : fmt::format("did you mean '{}'?", hint));
}

const CommandSpec& command_spec(const std::string& name) {
  for (const auto& c : commands())
    if (c.spec.name == name) return c.spec;
  fail_runtime("no declaration for the command '{}'", name);
}

}  // namespace st
