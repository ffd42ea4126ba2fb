// cli/command_line.h — the command line of one subcommand: positional arguments, --flags and --key value
// options (also --key=value), checked against what the subcommand declares. Unknown options are exit 2
// with the nearest valid name.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/nearest.h"

namespace st {

struct CommandSpec {
  std::string name;      // e.g. "inspect"
  std::string usage;     // e.g. "inspect PATH [--json]"
  std::set<std::string> flags;    // options without a value, e.g. "json"
  std::set<std::string> options;  // options with a value; may repeat (values() keeps all)
  size_t min_positional = 0, max_positional = 0;
};

class CommandLine {
 public:
  CommandLine(const CommandSpec& spec, const std::vector<std::string>& args);

  bool flag(const std::string& name) const { return flags_.count(name) > 0; }
  std::optional<std::string> value(const std::string& name) const;  // the last one given
  std::vector<std::string> values(const std::string& name) const;
  std::string value_or(const std::string& name, const std::string& fallback) const;
  int64_t int_value_or(const std::string& name, int64_t fallback) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  const CommandSpec& spec_;
  std::vector<std::string> positional_;
  std::set<std::string> flags_;
  std::map<std::string, std::vector<std::string>> options_;
};


// Parses a byte size such as "2GB", "500MB", "1048576" (decimal units, as transformers' max_shard_size).
uint64_t parse_byte_size(const std::string& text, const std::string& what);

}  // namespace st
