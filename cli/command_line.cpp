// cli/command_line.cpp — command-line parsing shared by every subcommand.
#include "cli/command_line.h"

#include <algorithm>
#include <cctype>

#include "common/check.h"

namespace st {

CommandLine::CommandLine(const CommandSpec& spec, const std::vector<std::string>& args) : spec_(spec) {
  std::vector<std::string> known;
  for (const auto& f : spec.flags) known.push_back("--" + f);
  for (const auto& o : spec.options) known.push_back("--" + o);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg.compare(0, 2, "--") != 0 || arg == "--") {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2), inline_value;
    const bool has_inline = name.find('=') != std::string::npos;
    if (has_inline) {
      inline_value = name.substr(name.find('=') + 1);
      name = name.substr(0, name.find('='));
    }
    if (spec.flags.count(name)) {
      ST_CHECK_INPUT(!has_inline, "{}: --{} takes no value", spec.name, name);
      flags_.insert(name);
    } else if (spec.options.count(name)) {
      if (!has_inline) {
        ST_CHECK_INPUT(i + 1 < args.size(), "{}: --{} needs a value (usage: safetune {})", spec.name, name, spec.usage);
        inline_value = args[++i];
      }
      options_[name].push_back(inline_value);
    } else {
      const auto hint = nearest("--" + name, known);
      fail_input("{}: unknown option --{}{} (usage: safetune {})", spec.name, name,
                 hint.empty() ? "" : fmt::format("; did you mean {}?", hint), spec.usage);
    }
  }
  ST_CHECK_INPUT(positional_.size() >= spec.min_positional && positional_.size() <= spec.max_positional,
                 "{}: expected {} argument(s), got {} (usage: safetune {})", spec.name,
                 spec.min_positional == spec.max_positional ? fmt::format("{}", spec.min_positional)
                                                            : fmt::format("{}-{}", spec.min_positional, spec.max_positional),
                 positional_.size(), spec.usage);
}

std::optional<std::string> CommandLine::value(const std::string& name) const {
  auto it = options_.find(name);
  if (it == options_.end()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> CommandLine::values(const std::string& name) const {
  auto it = options_.find(name);
  return it == options_.end() ? std::vector<std::string>{} : it->second;
}

std::string CommandLine::value_or(const std::string& name, const std::string& fallback) const {
  return value(name).value_or(fallback);
}

int64_t CommandLine::int_value_or(const std::string& name, int64_t fallback) const {
  const auto v = value(name);
  if (!v) return fallback;
  try {
    size_t used = 0;
    const int64_t out = std::stoll(*v, &used);
    if (used == v->size()) return out;
  } catch (const std::exception&) {
  }
  fail_input("{}: --{} must be an integer, got '{}'", spec_.name, name, *v);
}

uint64_t parse_byte_size(const std::string& text, const std::string& what) {
  size_t used = 0;
  double number = 0;
  try {
    number = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = text.substr(used);
  std::transform(unit.begin(), unit.end(), unit.begin(), [](unsigned char c) { return std::toupper(c); });
  const std::pair<const char*, double> units[] = {{"", 1}, {"B", 1}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9},
                                                  {"KIB", 1024.0}, {"MIB", 1048576.0}, {"GIB", 1073741824.0}};
  for (const auto& [name, scale] : units)
    if (used > 0 && number >= 0 && unit == name) return static_cast<uint64_t>(number * scale);
  fail_input("{}: '{}' is not a byte size (examples: 2GB, 500MB, 1048576)", what, text);
}

}  // namespace st
