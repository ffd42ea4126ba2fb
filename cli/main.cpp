// cli/main.cpp — the `safetune` command: dispatches to a subcommand and turns errors into the exit
// codes of docs/ARCHITECTURE.md (2 bad input, 1 runtime failure), one readable line each, never a C++ trace.
#include <c10/util/Exception.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "common/provenance.h"
#include "common/check.h"
#include "cli/command_line.h"
#include "cli/commands.h"

namespace {

void print_usage(std::FILE* out) {
  fmt::print(out, "safetune {} — fine-tune Llama-family models with a safety-penalized loss\n\n", SAFETUNE_VERSION);
  fmt::print(out, "usage: safetune COMMAND [ARGS]\n\ncommands:\n");
  for (const auto& c : st::commands()) fmt::print(out, "  {:<17} {}\n", c.spec.name, c.spec.summary);
  fmt::print(out, "\n'safetune COMMAND --help' (or 'safetune help COMMAND') lists a command's options and examples.\n");
  fmt::print(out, "\nexit codes: 0 done, 1 failure while running, 2 bad usage/config/input, 75 interrupted\n");
}

// `safetune help [COMMAND]`.
int run_help(const st::Args& args) {
  if (args.empty()) {
    print_usage(stdout);
    return 0;
  }
  ST_CHECK_INPUT(args.size() == 1, "help: expected one command name, got {} (usage: safetune help [COMMAND])", args.size());
  fmt::print("{}", st::help_text(st::find_command(args[0]).spec));
  return 0;
}

// First line of a LibTorch error, without its C++ backtrace.
std::string first_line(const char* what) {
  std::string s(what);
  return s.substr(0, s.find('\n'));
}

}  // namespace

int main(int argc, char** argv) {
  st::record_command_line(argc, argv);
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) {
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
    if (command == "help") return run_help(args);
    return st::find_command(command).run(args);
  } catch (const st::HelpRequested& help) {
    fmt::print("{}", st::help_text(help.spec));
    return 0;
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
