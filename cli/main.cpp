// cli/main.cpp — the `safetune` command: dispatches to a subcommand and turns errors into the exit
// codes of docs/ARCHITECTURE.md (2 bad input, 1 runtime failure), one readable line each, never a C++ trace.
#include <c10/util/Exception.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/check.h"
#include "cli/command_line.h"
#include "cli/commands.h"

namespace {

struct Subcommand {
  const char* name;
  int (*run)(const st::Args&);
  const char* summary;
};

const Subcommand kSubcommands[] = {
    {"train", st::run_train, "fine-tune a model folder on JSONL data (checkpoints, resume, metrics)"},
    {"config", st::run_config, "print every config key with its default, or validate a config file"},
    {"report", st::run_report, "one self-contained HTML page of a run's or several runs' curves, evaluations and incidents"},
    {"eval", st::run_eval, "refusal, toxicity and over-refusal rates on prompt sets, validation loss and exact match"},
    {"generate", st::run_generate, "continue prompts with a model (chat template, KV cache, EOS stop), JSONL out"},
    {"sweep", st::run_sweep, "one run per value of a config key (e.g. safety.lambda), then a comparison table"},
    {"train-classifier", st::run_train_classifier, "train the frozen toxicity classifier on labelled JSONL (AUROC, threshold)"},
    {"score", st::run_score, "score texts with a toxicity classifier (JSONL file or stdin), JSONL out"},
    {"inspect", st::run_inspect, "show a model folder's or safetensors file's architecture, dtypes and tensors"},
    {"init-model", st::run_init_model, "write a randomly initialised Llama model folder from an architecture config"},
    {"convert", st::run_convert, "rewrite a model folder with another dtype or shard size"},
};

void print_usage(std::FILE* out) {
  fmt::print(out, "safetune {} — fine-tune Llama-family models with a safety-penalized loss\n\n", SAFETUNE_VERSION);
  fmt::print(out, "usage: safetune COMMAND [ARGS]\n\ncommands:\n");
  for (const auto& s : kSubcommands) fmt::print(out, "  {:<17} {}\n", s.name, s.summary);
  fmt::print(out, "\nexit codes: 0 done, 1 failure while running, 2 bad usage/config/input, 75 interrupted\n");
}

// First line of a LibTorch error, without its C++ backtrace.
std::string first_line(const char* what) {
  std::string s(what);
  return s.substr(0, s.find('\n'));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    print_usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    fmt::print("safetune {}\n", SAFETUNE_VERSION);
    return 0;
  }
  const std::string command = argv[1];
  const st::Args args(argv + 2, argv + argc);
  try {
    for (const auto& s : kSubcommands)
      if (command == s.name) return s.run(args);
    std::vector<std::string> names;
    for (const auto& s : kSubcommands) names.emplace_back(s.name);
    const auto hint = st::nearest(command, names);
    st::fail_input("unknown command '{}'{}; run 'safetune --help'", command,
                   hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint));
  } catch (const st::Error& e) {
    fmt::print(stderr, "safetune: error: {}\n", e.what());
    return static_cast<int>(e.code());
  } catch (const c10::Error& e) {
    fmt::print(stderr, "safetune: error: {}\n", first_line(e.what_without_backtrace()));
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "safetune: error: {}\n", first_line(e.what()));
    return 1;
  }
}
