// cli/commands.h — the safetune subcommands; each takes the arguments after its name and returns
// the process exit code (errors are thrown as st::Error and mapped to exit codes by main). Their
// command lines are declared once, in commands.cpp: parsing, error messages and --help come from there.
#pragma once

#include <string>
#include <vector>

#include "cli/command_line.h"

namespace st {

using Args = std::vector<std::string>;

int run_inspect(const Args& args);
int run_init_model(const Args& args);
int run_convert(const Args& args);
int run_merge(const Args& args);
int run_memory(const Args& args);
int run_train(const Args& args);
int run_config(const Args& args);
int run_train_classifier(const Args& args);
int run_score(const Args& args);
int run_sweep(const Args& args);
int run_generate(const Args& args);
int run_report(const Args& args);
int run_eval(const Args& args);
int run_judge(const Args& args);
int run_tokenize(const Args& args);

struct Command {
  CommandSpec spec;
  int (*run)(const Args&);
};

// Every subcommand, in the order `safetune --help` lists them.
const std::vector<Command>& commands();
// The subcommand called `name`; an unknown name is exit 2 with the nearest valid one.
const Command& find_command(const std::string& name);
// The declaration of a subcommand that exists (for its run_ function).
const CommandSpec& command_spec(const std::string& name);

}  // namespace st
