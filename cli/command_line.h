// cli/command_line.h — the command line of one subcommand: positional arguments, --flags and --key value
// options (also --key=value), checked against what the subcommand declares. One declaration per option
// (name, value name, default, help; llama.cpp's common_arg is the model) drives the parser, its error
// messages (unknown options are exit 2 with the nearest valid name) and the `--help` text.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/nearest.h"

namespace st {

struct OptionSpec {
  std::string name;           // without the dashes, e.g. "max-new-tokens"
  std::string value_name;     // e.g. "N"; empty for a flag, which takes no value
  std::string help;           // what it does, one line
  std::string default_value;  // used when the option is absent (CommandLine::text); "" = none
  bool required = false;      // the parser refuses a command line without it
  bool repeatable = false;    // given several times, values() keeps them all (value() is the last)
  std::optional<double> min, max;  // numeric options: the accepted range, checked by integer()/number()

  bool is_flag() const { return value_name.empty(); }
  OptionSpec& set_default(std::string value);
  OptionSpec& set_required();
  OptionSpec& set_repeatable();
  OptionSpec& set_range(double lo, double hi);
};

// The declarations, e.g. option("seed", "N", "random seed").set_default("0").
OptionSpec flag(std::string name, std::string help);
OptionSpec option(std::string name, std::string value_name, std::string help);

struct Positionals {
  std::string names;  // as the usage line shows them, e.g. "RUN_DIR [RUN_DIR...]"; "" for none
  size_t min = 0, max = 0;
  std::string help;  // what they are, for --help
};

struct CommandSpec {
  CommandSpec(std::string name, std::string summary, Positionals positionals, std::vector<OptionSpec> options,
              std::vector<std::string> examples);

  const OptionSpec* find(const std::string& option) const;  // nullptr when not declared

  std::string name;     // e.g. "inspect"
  std::string summary;  // one line, for `safetune --help` and the top of `safetune inspect --help`
  Positionals positionals;
  std::vector<OptionSpec> options;
  std::vector<std::string> examples;  // whole command lines, starting with "safetune "
  std::string usage;                  // derived from the above, e.g. "inspect PATH [--json]"
};

// The full `safetune COMMAND --help` text: usage, summary, arguments, every option with its meaning and
// default, examples.
std::string help_text(const CommandSpec& spec);

// Thrown by CommandLine when the arguments ask for help (--help or -h); main prints help_text(spec) to
// stdout and exits 0, as argparse and CLI11 do.
struct HelpRequested {
  const CommandSpec& spec;
};

class CommandLine {
 public:
  CommandLine(const CommandSpec& spec, const std::vector<std::string>& args);

  bool flag(const std::string& name) const { return flags_.count(name) > 0; }
  std::optional<std::string> value(const std::string& name) const;  // the last one given; set when required
  std::vector<std::string> values(const std::string& name) const;
  std::string value_or(const std::string& name, const std::string& fallback) const;
  int64_t int_value_or(const std::string& name, int64_t fallback) const;
  std::string text(const std::string& name) const;  // the value given, else the declared default
  int64_t integer(const std::string& name) const;   // text(), as an integer (exit 2 when it is not one)
  // The value as a finite number in the declared range; nullopt when absent and without a default.
  std::optional<double> number(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  void check_range(const OptionSpec& o, double v) const;
  void check_counts() const;
  void check_required() const;

  const CommandSpec& spec_;
  std::vector<std::string> positional_;
  std::set<std::string> flags_;
  std::map<std::string, std::vector<std::string>> options_;
};


// Parses a byte size such as "2GB", "500MB", "1048576" (decimal units, as transformers' max_shard_size).
uint64_t parse_byte_size(const std::string& text, const std::string& what);

}  // namespace st
