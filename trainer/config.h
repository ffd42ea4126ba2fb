// trainer/config.h — the config module: one JSON file (comments allowed) checked against one schema table
// (trainer/config_schema.cpp) that also drives `--set`, `safetune config defaults`, the README's key list
// and which keys may change on resume, then read as typed values (trainer/run_config.h). No code outside
// this module reads a key by its name.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

#include "trainer/run_config.h"

namespace st {

enum class KeyType { Int, Number, Bool, String, StringList, IntList, Choice, Path, PathList, Lambda, Budget };
enum class PathRole { None, InputFile, InputFolder, InputFileOrFolder, Output };

struct ConfigKey {
  std::string path;  // dotted, e.g. "train.max_steps"
  KeyType type;
  nlohmann::json default_value;  // null = required
  std::string help;
  std::optional<double> min, max;    // Int, IntList (each item) and Number; every Int key has a max (sizes must not overflow)
  bool max_exclusive = false;        // max itself is out of range (AdamW's betas must stay below 1)
  bool min_exclusive = false;        // min itself is out of range (LoRA's alpha must be above 0)
  std::vector<std::string> choices;  // Choice; StringList: what each item may be (none: any string)
  bool locked_on_resume = false;     // changing it breaks resume (model, data, batching, seed)
  PathRole path_role = PathRole::None;  // Path/PathList keys: what `config validate` checks exists
  const std::type_info* root = nullptr;                 // the typed config the key fills
  std::function<void(void* root, const nlohmann::json&)> bind;  // sets its member from a checked value
};

using Schema = std::vector<ConfigKey>;
const Schema& config_schema();             // safetune train
const Schema& classifier_config_schema();  // safetune train-classifier
const Schema& eval_config_schema();        // safetune eval: the train schema with nothing required
const ConfigKey* find_config_key(const std::string& path, const Schema& schema = config_schema());

// A resolved, validated config: every schema key present with its value or default, paths absolute.
class Config {
 public:
  // Reads FILE, applies `--set key=value` overrides in order, fills defaults and validates everything.
  // Every error is exit 2 naming the file and the dotted key (with the nearest valid key when unknown).
  static Config load(const std::string& file, const std::vector<std::string>& overrides = {},
                     const Schema& schema = config_schema());
  // Validates an already-resolved config (e.g. the copy saved in a run folder).
  static Config from_resolved(const nlohmann::json& resolved, const std::string& label,
                              const Schema& schema = config_schema());

  // The typed values; each checks that this config was loaded with that type's schema.
  RunConfig run_config() const;
  ClassifierRunConfig classifier_config() const;

  // One value by key, for tests of the config module itself.
  int64_t integer(const std::string& key) const;
  double number(const std::string& key) const;
  bool boolean(const std::string& key) const;
  std::string string(const std::string& key) const;  // String, Choice and Path keys
  std::vector<std::string> paths(const std::string& key) const;
  const nlohmann::json& raw(const std::string& key) const;  // e.g. the λ object

  const nlohmann::json& resolved() const { return resolved_; }  // nested, as written to RUN_DIR/config.json
  const std::string& source() const { return source_; }
  const Schema& schema() const { return *schema_; }

 private:
  const nlohmann::json& at(const std::string& key) const;
  void fill(void* typed, const std::type_info& type) const;
  nlohmann::json resolved_;
  std::string source_;
  const Schema* schema_ = nullptr;
};

// Input paths (files and folders the run reads) that are missing or of the wrong kind, one line each
// naming the key: what `config validate` reports before a run would trip over them.
std::vector<std::string> missing_inputs(const Config& config);

// Keys whose values differ between two resolved configs, as "key: old -> new".
std::vector<std::string> config_differences(const Config& before, const Config& after, bool locked_only);

// Output folders that are, contain or lie inside an input (model, data, classifier, pool, eval files), one
// line each naming both keys: writing there could overwrite what the run reads.
std::vector<std::string> overlapping_outputs(const Config& config);
// Exit 2 naming every overlap, before anything is written.
void refuse_overlapping_outputs(const Config& config);

// One line per key: dotted name, default, help (for `safetune config defaults`).
std::string describe_config_defaults(const Schema& schema = config_schema());
// The same as a Markdown table: the README's key list is this text (a test compares them).
std::string describe_config_markdown(const Schema& schema = config_schema());

}  // namespace st
