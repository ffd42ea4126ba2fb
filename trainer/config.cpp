// trainer/config.cpp — strict validation of a config against its schema, --set overrides, and the typed view.
#include "trainer/config.h"

#include <algorithm>
#include <filesystem>
#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>

#include "common/check.h"
#include "common/files.h"
#include "common/json_file.h"
#include "losses/lambda_controller.h"
#include "common/nearest.h"

namespace st {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::string describe_expected(const ConfigKey& k) {
  std::string range;
  if (k.min && k.max)
    range = fmt::format(" in {}{}, {}{}", k.min_exclusive ? "(" : "[", *k.min, *k.max, k.max_exclusive ? ")" : "]");
  else if (k.min) range = fmt::format(" {} {}", k.min_exclusive ? ">" : ">=", *k.min);
  switch (k.type) {
    case KeyType::Int: return "an integer" + range;
    case KeyType::Number: return "a number" + range;
    case KeyType::Bool: return "true or false";
    case KeyType::String: return "a string";
    case KeyType::Choice: return fmt::format("one of {}", fmt::join(k.choices, ", "));
    case KeyType::Path: return k.choices.empty() ? "a path" : fmt::format("a path or one of {}", fmt::join(k.choices, ", "));
    case KeyType::PathList: return "a path or a list of paths";
    case KeyType::Lambda: return "a number >= 0 or a λ object";
    case KeyType::StringList:
      return k.choices.empty() ? "a list of strings" : fmt::format("a list of strings from {}", fmt::join(k.choices, ", "));
    case KeyType::IntList: return "a list of integers" + range;
    case KeyType::Budget: return "a count in [1, 1e9] or a percentage string such as \"1%\"";
  }
  return "?";
}

bool in_range(const ConfigKey& k, double d) {
  return std::isfinite(d) && (!k.min || (k.min_exclusive ? d > *k.min : d >= *k.min)) &&
         (!k.max || (k.max_exclusive ? d < *k.max : d <= *k.max));
}

// Compared as a double before any conversion: 2^64-1 or 1e300 must fail the range, not wrap; 1e3 or 100.0
// are integers written as floats, 2.5 is not.
bool is_integer_in_range(const ConfigKey& k, const json& v) {
  return v.is_number() && in_range(k, v.get<double>()) && v.get<double>() == std::floor(v.get<double>());
}

// An escaped NUL ("\u0000") would silently cut a path or name short where it reaches the C library.
bool has_nul(const json& s) { return s.get_ref<const std::string&>().find('\0') != std::string::npos; }

// Checks and normalises one value (relative paths resolved against `base_dir`).
json check_value(const ConfigKey& k, const json& v, const std::string& label, const std::string& base_dir) {
  auto bad = [&]() { fail_input("{}: {}: expected {}, got {}", label, k.path, describe_expected(k), json_excerpt(v)); };
  auto resolve = [&](const json& p) -> json {
    if (p == "" && k.default_value == "") return "";  // an optional path left unset
    if (std::find(k.choices.begin(), k.choices.end(), p) != k.choices.end()) return p;  // a keyword, not a path
    if (!p.is_string() || p.get<std::string>().empty() || has_nul(p)) bad();
    fs::path path(p.get<std::string>());
    return (path.is_absolute() || base_dir.empty() ? path : fs::path(base_dir) / path).lexically_normal().string();
  };
  switch (k.type) {
    case KeyType::Int:
      if (!is_integer_in_range(k, v)) bad();
      return static_cast<int64_t>(v.get<double>());
    case KeyType::Number: {
      if (!v.is_number()) bad();
      if (!in_range(k, v.get<double>())) bad();
      return v;
    }
    case KeyType::Bool:
      if (!v.is_boolean()) bad();
      return v;
    case KeyType::String:
      if (!v.is_string() || has_nul(v)) bad();
      return v;
    case KeyType::Choice:
      if (!v.is_string() || std::find(k.choices.begin(), k.choices.end(), v.get<std::string>()) == k.choices.end()) bad();
      return v;
    case KeyType::Path:
      return resolve(v);
    case KeyType::Lambda:
      LambdaController::validate(v, label + ": " + k.path);
      return v;
    case KeyType::StringList:
      if (!v.is_array()) bad();
      for (const auto& item : v) {
        if (!item.is_string() || item.get<std::string>().empty() || has_nul(item)) bad();
        if (!k.choices.empty() && std::find(k.choices.begin(), k.choices.end(), item.get<std::string>()) == k.choices.end()) bad();
      }
      return v;
    case KeyType::IntList:
      if (!v.is_array()) bad();
      for (const auto& item : v)
        if (!is_integer_in_range(k, item)) bad();
      return v;
    case KeyType::Budget:
      if (v.is_number_integer() && v.get<double>() >= 1 && v.get<double>() <= 1e9) return v;
      if (v.is_string()) {
        const auto text = v.get<std::string>();
        char* end = nullptr;
        const double p = text.size() > 1 && text.back() == '%' ? std::strtod(text.c_str(), &end) : -1;
        if (end == text.c_str() + text.size() - 1 && p > 0 && p <= 100) return v;
      }
      bad();
      return v;
    case KeyType::PathList: {
      json out = json::array();
      if (v.is_string()) return json::array({resolve(v)});
      if (!v.is_array()) bad();
      for (const auto& p : v) out.push_back(resolve(p));
      return out;
    }
  }
  return v;
}

std::vector<std::string> all_paths(const Schema& schema) {
  std::vector<std::string> out;
  for (const auto& k : schema) out.push_back(k.path);
  return out;
}

json get_dotted(const json& root, const std::string& path) {
  const json* node = &root;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '.')) {
    if (!node->is_object() || !node->contains(part)) return nullptr;
    node = &(*node)[part];
  }
  return *node;
}

void set_dotted(json& root, const std::string& path, json value) {
  json* node = &root;
  std::stringstream ss(path);
  std::string part;
  std::vector<std::string> parts;
  while (std::getline(ss, part, '.')) parts.push_back(part);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (!node->contains(parts[i]) || !(*node)[parts[i]].is_object()) (*node)[parts[i]] = json::object();
    node = &(*node)[parts[i]];
  }
  (*node)[parts.back()] = std::move(value);
}

// "; did you mean 'optim.lr'?" for a mistyped key: the nearest full key, or else the key whose last
// part is what was typed (`lr` -> optim.lr, `max_steps` -> train.max_steps).
std::string did_you_mean(const std::string& path, const Schema& schema) {
  std::string hint = nearest(path, all_paths(schema));
  for (const auto& k : schema)
    if (hint.empty() && k.path.size() > path.size() && k.path.compare(k.path.size() - path.size(), path.size(), path) == 0 &&
        k.path[k.path.size() - path.size() - 1] == '.')
      hint = k.path;
  return hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint);
}

// Every leaf of `user` must be a schema key; reports the nearest valid key otherwise.
void reject_unknown_keys(const json& node, const std::string& prefix, const std::string& label, const Schema& schema) {
  for (const auto& [name, value] : node.items()) {
    const std::string path = prefix.empty() ? name : prefix + "." + name;
    if (find_config_key(path, schema)) continue;
    bool is_section = false;
    for (const auto& k : schema) is_section = is_section || k.path.rfind(path + ".", 0) == 0;
    if (is_section) {
      ST_CHECK_INPUT(value.is_object(), "{}: '{}' must be an object (a config section), got {}", label, path, json_excerpt(value));
      reject_unknown_keys(value, path, label, schema);
      continue;
    }
    fail_input("{}: unknown key '{}'{}", label, path, did_you_mean(path, schema));
  }
}

json resolve(const json& user, const std::string& label, const std::string& base_dir, const Schema& schema) {
  ST_CHECK_INPUT(user.is_object(), "{}: a config must be a JSON object", label);
  reject_unknown_keys(user, "", label, schema);
  json resolved = json::object();
  for (const auto& k : schema) {
    json v = get_dotted(user, k.path);
    if (v.is_null()) {
      ST_CHECK_INPUT(!k.default_value.is_null(), "{}: missing required key '{}' ({})", label, k.path, k.help);
      v = k.default_value;
      set_dotted(resolved, k.path, v);
      continue;
    }
    set_dotted(resolved, k.path, check_value(k, v, label, base_dir));
  }
  const auto* train_key = find_config_key("data.train", schema);
  ST_CHECK_INPUT(!train_key || !train_key->default_value.is_null() || !get_dotted(resolved, "data.train").empty(),
                 "{}: data.train: expected at least one file", label);
  return resolved;
}

}  // namespace

const ConfigKey* find_config_key(const std::string& path, const Schema& schema) {
  for (const auto& k : schema)
    if (k.path == path) return &k;
  return nullptr;
}

Config Config::load(const std::string& file, const std::vector<std::string>& overrides, const Schema& schema) {
  json user = read_json_file(file, /*allow_comments=*/true);
  ST_CHECK_INPUT(user.is_object(), "{}: a config must be a JSON object", file);
  const std::string base = fs::absolute(file).parent_path().string();
  for (const auto& o : overrides) {
    const auto eq = o.find('=');
    ST_CHECK_INPUT(eq != std::string::npos && eq > 0, "--set {}: expected key=value", o);
    const std::string k = o.substr(0, eq), raw = o.substr(eq + 1);
    const auto* schema_key = find_config_key(k, schema);
    if (!schema_key) fail_input("--set {}: unknown key '{}'{}", o, k, did_you_mean(k, schema));
    // A value is JSON when it parses as JSON (numbers, booleans, lists), otherwise a plain string; one
    // that opens a list or object was meant as JSON, so its syntax error is reported.
    std::string error;
    auto parsed = try_parse_json(raw, error);
    ST_CHECK_INPUT(parsed || (raw.rfind('[', 0) != 0 && raw.rfind('{', 0) != 0), "--set {}: not valid JSON: {}",
                   text_excerpt(o), error);
    json v = parsed ? *parsed : json(raw);
    // Checked here so a bad value is blamed on --set, not on the file; paths given on the command line
    // are relative to the working directory, not the config file.
    set_dotted(user, k, check_value(*schema_key, v, "--set " + text_excerpt(o), fs::current_path().string()));
  }
  Config c;
  c.resolved_ = resolve(user, file, base, schema);
  c.source_ = file;
  c.schema_ = &schema;
  return c;
}

Config Config::from_resolved(const json& resolved, const std::string& label, const Schema& schema) {
  Config c;
  c.resolved_ = resolve(resolved, label, "", schema);
  c.source_ = label;
  c.schema_ = &schema;
  return c;
}

const json& Config::at(const std::string& key) const {
  ST_CHECK(find_config_key(key, *schema_) != nullptr, "internal: config key '{}' is not in the schema", key);
  const json* node = &resolved_;
  std::stringstream ss(key);
  std::string part;
  while (std::getline(ss, part, '.')) node = &node->at(part);
  return *node;
}

void Config::fill(void* typed, const std::type_info& type) const {
  for (const auto& k : *schema_) {
    ST_CHECK(k.root != nullptr && *k.root == type && k.bind, "internal: config key '{}' is not bound to {}", k.path, type.name());
    k.bind(typed, at(k.path));
  }
}

RunConfig Config::run_config() const {
  RunConfig c{};
  fill(&c, typeid(RunConfig));
  c.source = source_;
  return c;
}

ClassifierRunConfig Config::classifier_config() const {
  ClassifierRunConfig c{};
  fill(&c, typeid(ClassifierRunConfig));
  c.source = source_;
  return c;
}

int64_t Config::integer(const std::string& key) const { return at(key).get<int64_t>(); }
double Config::number(const std::string& key) const { return at(key).get<double>(); }
const nlohmann::json& Config::raw(const std::string& key) const { return at(key); }
bool Config::boolean(const std::string& key) const { return at(key).get<bool>(); }
std::string Config::string(const std::string& key) const { return at(key).get<std::string>(); }
std::vector<std::string> Config::paths(const std::string& key) const { return at(key).get<std::vector<std::string>>(); }

int64_t budget_count(const json& budget, int64_t task_examples) {
  if (budget.is_number_integer()) return budget.get<int64_t>();
  const double percent = std::strtod(budget.get<std::string>().c_str(), nullptr);
  return std::max<int64_t>(1, std::llround(percent / 100.0 * static_cast<double>(task_examples)));
}

std::vector<std::string> config_differences(const Config& before, const Config& after, bool locked_only) {
  std::vector<std::string> out;
  for (const auto& k : before.schema()) {
    if (locked_only && !k.locked_on_resume) continue;
    const json a = get_dotted(before.resolved(), k.path), b = get_dotted(after.resolved(), k.path);
    if (a != b) out.push_back(fmt::format("{}: {} -> {}", k.path, json_excerpt(a), json_excerpt(b)));
  }
  return out;
}

namespace {
// A Path or PathList key's values, without the unset (empty) ones.
std::vector<std::string> path_values(const Config& config, const ConfigKey& k) {
  const json& value = config.raw(k.path);
  std::vector<std::string> out;
  for (const auto& p : value.is_array() ? value : json::array({value}))
    if (!p.get<std::string>().empty()) out.push_back(p.get<std::string>());
  return out;
}
bool is_input(const ConfigKey& k) { return k.path_role != PathRole::None && k.path_role != PathRole::Output; }
}  // namespace

std::vector<std::string> missing_inputs(const Config& config) {
  std::vector<std::string> out;
  for (const auto& k : config.schema()) {
    if (!is_input(k)) continue;
    for (const auto& path : path_values(config, k)) {
      const bool folder = k.path_role == PathRole::InputFolder;
      std::error_code ec;
      const auto status = fs::status(path, ec);
      if (!fs::exists(status)) out.push_back(fmt::format("{}: {}: no such {}", k.path, path, folder ? "folder" : "file"));
      else if (folder && !fs::is_directory(status)) out.push_back(fmt::format("{}: {}: not a folder", k.path, path));
      else if (k.path_role == PathRole::InputFile && !fs::is_regular_file(status))
        out.push_back(fmt::format("{}: {}: not a regular file", k.path, path));
      else if (!fs::is_regular_file(status) && !fs::is_directory(status))
        out.push_back(fmt::format("{}: {}: not a regular file or folder", k.path, path));
    }
  }
  return out;
}

namespace {
// A path key's values resolved through existing symlinks, so two spellings of one folder compare equal.
std::vector<fs::path> canonical_paths(const Config& config, const ConfigKey& k) {
  std::vector<fs::path> out;
  for (const auto& p : path_values(config, k)) {
    std::error_code ec;
    out.push_back(fs::weakly_canonical(p, ec).lexically_normal());
  }
  return out;
}
// `inner` is `outer` or lies below it.
bool within(const fs::path& inner, const fs::path& outer) {
  auto o = outer.begin(), i = inner.begin();
  for (; o != outer.end() && !o->empty(); ++o, ++i)
    if (i == inner.end() || *i != *o) return false;
  return true;
}
}  // namespace

std::vector<std::string> overlapping_outputs(const Config& config) {
  std::vector<std::string> out;
  for (const auto& o : config.schema()) {
    if (o.path_role != PathRole::Output) continue;
    for (const auto& output : canonical_paths(config, o))
      for (const auto& k : config.schema()) {
        if (!is_input(k)) continue;
        for (const auto& input : canonical_paths(config, k))
          if (within(input, output) || within(output, input))
            out.push_back(fmt::format("{} ({}) overlaps the input {} ({})", o.path, output.string(), k.path, input.string()));
      }
  }
  return out;
}

void refuse_overlapping_outputs(const Config& config) {
  const auto overlaps = overlapping_outputs(config);
  ST_CHECK_INPUT(overlaps.empty(), "{}: an output folder may not be, contain or lie inside an input, or the run could "
                 "overwrite what it reads: {}", config.source(), fmt::join(overlaps, "; "));
}

std::string describe_config_defaults(const Schema& schema) {
  std::string out;
  for (const auto& k : schema) {
    const std::string def = k.default_value.is_null() ? "(required)" : k.default_value.dump();
    out += fmt::format("{:<26} {:<14} {}{}\n", k.path, def, k.help,
                       k.type == KeyType::Choice ? fmt::format(" [{}]", fmt::join(k.choices, "|")) : "");
  }
  return out;
}

std::string describe_config_markdown(const Schema& schema) {
  std::string out = "| key | default | meaning |\n|---|---|---|\n";
  for (const auto& k : schema) {
    std::string help = k.help + (k.help.empty() || k.help.back() == '.' ? "" : ".");
    if (k.type == KeyType::Choice) help += fmt::format(" One of: {}.", fmt::join(k.choices, ", "));
    if (k.locked_on_resume) help += " Fixed for the run (a resume refuses a change).";
    std::string escaped;
    for (char c : help) escaped += c == '|' ? std::string("\\|") : std::string(1, c);
    out += fmt::format("| `{}` | {} | {} |\n", k.path, k.default_value.is_null() ? "required" : "`" + k.default_value.dump() + "`", escaped);
  }
  return out;
}

}  // namespace st
