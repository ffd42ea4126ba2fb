// cli/command_line.cpp — command-line parsing shared by every subcommand.
#include "cli/command_line.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

#include <fmt/ranges.h>

#include "common/check.h"

namespace st {

OptionSpec& OptionSpec::set_default(std::string value) {
  default_value = std::move(value);
  return *this;
}

OptionSpec& OptionSpec::set_required() {
  required = true;
  return *this;
}

OptionSpec& OptionSpec::set_repeatable() {
  repeatable = true;
  return *this;
}

OptionSpec& OptionSpec::set_range(double lo, double hi) {
  min = lo;
  max = hi;
  return *this;
}

OptionSpec flag(std::string name, std::string help) { return option(std::move(name), "", std::move(help)); }

OptionSpec option(std::string name, std::string value_name, std::string help) {
  OptionSpec o;
  o.name = std::move(name);
  o.value_name = std::move(value_name);
  o.help = std::move(help);
  return o;
}

namespace {

// "--grid KEY=V1,V2,...", as the usage line and the help list show an option.
std::string option_with_value(const OptionSpec& o) { return "--" + o.name + (o.is_flag() ? "" : " " + o.value_name); }

std::string derive_usage(const std::string& name, const Positionals& positionals, const std::vector<OptionSpec>& options) {
  std::string usage = name;
  if (!positionals.names.empty()) usage += " " + positionals.names;
  for (const auto& o : options) {
    const std::string item = option_with_value(o);
    usage += " " + (o.required ? item : "[" + item + "]") + (o.repeatable ? "..." : "");
  }
  return usage;
}

// "(required, repeatable)", "(default: auto)": what the option's absence or repetition means.
std::string option_notes(const OptionSpec& o) {
  std::vector<std::string> notes;
  if (o.required) notes.push_back("required");
  if (o.repeatable) notes.push_back("repeatable");
  if (!o.default_value.empty()) notes.push_back("default: " + o.default_value);
  if (o.min && o.max) notes.push_back(fmt::format("range: {} to {}", *o.min, *o.max));
  return notes.empty() ? "" : fmt::format(" ({})", fmt::join(notes, ", "));
}

// The words of `text` in lines of at most `width` characters (a longer word gets a line of its own).
std::vector<std::string> wrap(const std::string& text, size_t width) {
  std::vector<std::string> lines(1);
  std::istringstream words(text);
  for (std::string word; words >> word;) {
    if (!lines.back().empty() && lines.back().size() + 1 + word.size() > width) lines.emplace_back();
    lines.back() += (lines.back().empty() ? "" : " ") + word;
  }
  return lines;
}

// Two columns within 100 characters; a left side too wide for its column puts the right side on the
// lines below.
void append_rows(std::string& out, const std::vector<std::pair<std::string, std::string>>& rows) {
  constexpr size_t kMaxColumn = 28, kWidth = 100;
  size_t column = 0;
  for (const auto& [left, _] : rows) column = std::max(column, std::min(left.size() + 2, kMaxColumn));
  for (const auto& [left, right] : rows) {
    const auto lines = wrap(right, kWidth - 2 - column);
    const bool beside = left.size() + 2 <= column;
    if (!beside) out += "  " + left + "\n";
    for (size_t i = 0; i < lines.size(); ++i)
      out += fmt::format("  {:<{}}{}\n", i == 0 && beside ? left : "", column, lines[i]);
  }
}

}  // namespace

CommandSpec::CommandSpec(std::string name_, std::string summary_, Positionals positionals_, std::vector<OptionSpec> options_,
                         std::vector<std::string> examples_)
    : name(std::move(name_)),
      summary(std::move(summary_)),
      positionals(std::move(positionals_)),
      options(std::move(options_)),
      examples(std::move(examples_)),
      usage(derive_usage(name, positionals, options)) {}

const OptionSpec* CommandSpec::find(const std::string& option) const {
  for (const auto& o : options)
    if (o.name == option) return &o;
  return nullptr;
}

std::string help_text(const CommandSpec& spec) {
  std::string out = fmt::format("usage: safetune {}\n\n{}\n", spec.usage, spec.summary);
  if (!spec.positionals.names.empty()) {
    out += "\narguments:\n";
    append_rows(out, {{spec.positionals.names, spec.positionals.help}});
  }
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& o : spec.options) rows.emplace_back(option_with_value(o), o.help + option_notes(o));
  rows.emplace_back("-h, --help", "print this help and exit");
  out += "\noptions:\n";
  append_rows(out, rows);
  out += "\nexamples:\n";
  for (const auto& e : spec.examples) out += "  " + e + "\n";
  return out;
}

CommandLine::CommandLine(const CommandSpec& spec, const std::vector<std::string>& args) : spec_(spec) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h") throw HelpRequested{spec};
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
    if (name == "help") throw HelpRequested{spec};
    const OptionSpec* o = spec.find(name);
    if (o == nullptr) {
      std::vector<std::string> known = {"--help"};
      for (const auto& declared : spec.options) known.push_back("--" + declared.name);
      const auto hint = nearest("--" + name, known);
      fail_input("{}: unknown option --{}{} (usage: safetune {})", spec.name, name,
                 hint.empty() ? "" : fmt::format("; did you mean {}?", hint), spec.usage);
    }
    if (o->is_flag()) {
      ST_CHECK_INPUT(!has_inline, "{}: --{} takes no value", spec.name, name);
      flags_.insert(name);
      continue;
    }
    if (!has_inline) {
      ST_CHECK_INPUT(i + 1 < args.size(), "{}: --{} needs a value (usage: safetune {})", spec.name, name, spec.usage);
      inline_value = args[++i];
    }
    options_[name].push_back(inline_value);
  }
  check_counts();
  check_required();
}

void CommandLine::check_counts() const {
  const auto& p = spec_.positionals;
  // `safetune train run.json`: the one mistake a surplus argument most likely is, named as such.
  if (positional_.size() > p.max && spec_.find("config") && !options_.count("config"))
    fail_input("{}: pass the config with --config {} (usage: safetune {})", spec_.name, positional_[p.max], spec_.usage);
  ST_CHECK_INPUT(positional_.size() >= p.min && positional_.size() <= p.max,
                 "{}: expected {} argument(s), got {} (usage: safetune {})", spec_.name,
                 p.min == p.max ? fmt::format("{}", p.min) : fmt::format("{}-{}", p.min, p.max), positional_.size(),
                 spec_.usage);
}

void CommandLine::check_required() const {
  std::vector<std::string> missing;
  for (const auto& o : spec_.options)
    if (o.required && !options_.count(o.name)) missing.push_back("--" + o.name);
  if (missing.empty()) return;
  const std::string last = missing.back();
  missing.pop_back();
  fail_input("{}: {}{} {} required (usage: safetune {})", spec_.name,
             missing.empty() ? "" : fmt::format("{} and ", fmt::join(missing, ", ")), last,
             missing.empty() ? "is" : "are", spec_.usage);
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

std::string CommandLine::text(const std::string& name) const {
  const OptionSpec* o = spec_.find(name);
  return value_or(name, o ? o->default_value : "");
}

int64_t CommandLine::integer(const std::string& name) const {
  const OptionSpec* o = spec_.find(name);
  ST_CHECK(o && !o->default_value.empty(), "{}: --{} has no declared default", spec_.name, name);
  const int64_t v = int_value_or(name, std::stoll(o->default_value));
  check_range(*o, static_cast<double>(v));
  return v;
}

std::optional<double> CommandLine::number(const std::string& name) const {
  const OptionSpec* o = spec_.find(name);
  ST_CHECK(o != nullptr, "{}: --{} is not declared", spec_.name, name);
  const std::string v = text(name);
  if (v.empty()) return std::nullopt;
  size_t used = 0;
  double out = 0;
  try {
    out = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  ST_CHECK_INPUT(used > 0 && used == v.size() && std::isfinite(out), "{}: --{} must be a number, got '{}'", spec_.name, name, v);
  check_range(*o, out);
  return out;
}

void CommandLine::check_range(const OptionSpec& o, double v) const {
  ST_CHECK_INPUT((!o.min || v >= *o.min) && (!o.max || v <= *o.max), "{}: --{} must be in [{}, {}], got {}", spec_.name,
                 o.name, o.min.value_or(-INFINITY), o.max.value_or(INFINITY), v);
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
