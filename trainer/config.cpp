// trainer/config.cpp — the config schema and its strict validation.
#include "trainer/config.h"

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
#include "trainer/eval/evaluation.h"

namespace st {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

ConfigKey key(std::string path, KeyType type, json def, std::string help) {
  ConfigKey k;
  k.path = std::move(path);
  k.type = type;
  k.default_value = std::move(def);
  k.help = std::move(help);
  return k;
}
ConfigKey ranged(ConfigKey k, std::optional<double> min, std::optional<double> max = std::nullopt) {
  k.min = min;
  k.max = max;
  return k;
}
ConfigKey choice(std::string path, std::vector<std::string> choices, std::string def, std::string help) {
  ConfigKey k = key(std::move(path), KeyType::Choice, def, std::move(help));
  k.choices = std::move(choices);
  return k;
}
ConfigKey locked(ConfigKey k) {
  k.locked_on_resume = true;
  return k;
}

std::vector<ConfigKey> build_schema() {
  const json required = nullptr;
  return {
      // model
      locked(key("model.path", KeyType::Path, required,
                 "Hugging Face model folder to fine-tune: config.json, safetensors, tokenizer.model")),
      choice("model.device", {"auto", "cpu", "cuda"}, "auto", "where to train; auto = cuda when available"),
      choice("model.save_dtype", {"float32", "bfloat16", "float16"}, "float32", "dtype of the weights written to final/"),
      // data
      locked(key("data.train", KeyType::PathList, required, "training JSONL file(s)")),
      locked(key("data.validation", KeyType::PathList, json::array(), "validation JSONL file(s) for validation CE")),
      locked(choice("data.format", {"auto", "prompt_completion", "chat", "text"}, "auto",
                    "record format; auto detects it per line from the keys present")),
      locked(choice("data.template", {"llama2", "chatml", "plain"}, "llama2",
                    "chat template around prompts and responses (see README)")),
      locked(key("data.system_prompt", KeyType::String, "", "system prompt added to prompts without one")),
      locked(ranged(key("data.max_seq_len", KeyType::Int, 512, "tokens per example, template included"), 8)),
      locked(choice("data.truncation", {"truncate", "drop"}, "truncate",
                    "overlong examples: cut the end (counted) or drop them (counted)")),
      locked(choice("data.on_bad_line", {"error", "skip"}, "error",
                    "malformed JSONL line: stop with file:line, or skip it and count it in the manifest")),
      locked(key("data.group_by_length", KeyType::Bool, true, "batch examples of similar length to cut padding")),
      // train
      key("train.output_dir", KeyType::Path, required, "run folder: config, manifest, metrics, checkpoints, final/"),
      ranged(key("train.max_steps", KeyType::Int, required, "optimizer steps to train"), 1),
      locked(ranged(key("train.seed", KeyType::Int, 0, "seed for shuffling and every random choice"), 0)),
      locked(ranged(key("train.batch_size", KeyType::Int, 8, "examples per micro-batch"), 1)),
      locked(ranged(key("train.grad_accum", KeyType::Int, 1, "micro-batches per optimizer step"), 1)),
      ranged(key("train.max_grad_norm", KeyType::Number, 1.0, "gradient clipping norm; 0 disables"), 0),
      ranged(key("train.stop_at_step", KeyType::Int, 0,
                 "stop cleanly after this step as if signalled (checkpoint, exit 75), e.g. for a job's time "
                 "limit; 0 = never"), 0),
      choice("train.chunked_loss", {"auto", "on", "off"}, "auto",
             "CE and the soft penalty's expected embeddings from hidden states, 1024 positions at a time and only "
             "where a label is, never building the full [B, T, V] logits; auto = on"),
      key("train.activation_checkpointing", KeyType::Bool, false,
          "keep only each decoder layer's input and rerun the layer in the backward: far less activation "
          "memory for about one more forward of compute"),
      choice("train.on_nonfinite", {"skip", "stop"}, "skip",
             "NaN/Inf loss or gradient: skip the update (counted) or stop keeping the last good checkpoint"),
      // optim
      ranged(key("optim.lr", KeyType::Number, 5e-5, "peak learning rate (AdamW)"), 0),
      ranged(key("optim.weight_decay", KeyType::Number, 0.0, "decoupled weight decay, on weight matrices only (not norms or biases)"), 0),
      ranged(key("optim.beta1", KeyType::Number, 0.9, "AdamW beta1"), 0, 1),
      ranged(key("optim.beta2", KeyType::Number, 0.999, "AdamW beta2"), 0, 1),
      ranged(key("optim.eps", KeyType::Number, 1e-8, "AdamW epsilon"), 0),
      // schedule
      choice("schedule.type", {"linear", "cosine", "constant"}, "linear", "LR decay after warmup"),
      ranged(key("schedule.warmup_steps", KeyType::Int, 0, "steps of linear warmup from 0"), 0),
      ranged(key("schedule.min_lr_ratio", KeyType::Number, 0.0, "final LR as a fraction of optim.lr"), 0, 1),
      // checkpoint
      ranged(key("checkpoint.every_steps", KeyType::Int, 500, "checkpoint interval in steps; 0 = only at the end"), 0),
      ranged(key("checkpoint.keep_last", KeyType::Int, 3, "newest checkpoints kept"), 1),
      // eval
      ranged(key("eval.every_steps", KeyType::Int, 0, "evaluation interval in steps (validation and eval prompts); 0 = only at the end"), 0),
      ranged(key("eval.batch_size", KeyType::Int, 8, "examples per validation or generation batch"), 1),
      key("eval.harmful", KeyType::Path, "",
          "harmful prompts JSONL {prompt, category}: refusal and toxicity rates of greedy generations"),
      key("eval.benign", KeyType::Path, "", "benign prompts JSONL {prompt, category?}: over-refusal rate"),
      ranged(key("eval.max_new_tokens", KeyType::Int, 48, "generation length for evaluation prompts"), 1),
      ranged(key("eval.exact_match_examples", KeyType::Int, 100,
                 "validation examples with one response scored by greedy exact match; 0 = off"), 0),
      key("eval.refusal_phrases", KeyType::StringList, default_refusal_phrases(),
          "a response starting with one of these (case-insensitive, whole words) is a refusal"),
      // logging
      choice("eval.best_metric", {"none", "val_ce", "exact_match", "harmful_refusal_rate", "harmful_toxicity_rate",
                                  "benign_over_refusal_rate"}, "none",
             "keep the checkpoint with the best value of this evaluation metric beside the newest ones (checkpoints/best)"),
      // gate: the safety gate
      key("gate.enabled", KeyType::Bool, false,
          "check every evaluation against the thresholds below (needs eval.harmful and eval.every_steps)"),
      ranged(key("gate.max_refusal_drop", KeyType::Number, 0.1,
                 "harmful refusal rate may fall at most this much (0.1 = 10 points) below the step-0 evaluation"), 0, 1),
      ranged(key("gate.max_toxicity_rate", KeyType::Number, 0.2, "harmful toxicity rate may not exceed this (needs a classifier)"), 0, 1),
      choice("gate.action", {"increase_lambda", "stop"}, "increase_lambda",
             "on an incident: restore the last passing checkpoint and multiply λ, or stop (exit 1)"),
      ranged(key("gate.lambda_factor", KeyType::Number, 2.0, "λ multiplier per incident"), 1),
      ranged(key("gate.max_incidents", KeyType::Int, 3, "incidents after which the run stops anyway"), 1),
      ranged(key("log.every_steps", KeyType::Int, 10, "steps between metrics.jsonl lines"), 1),
      choice("log.progress", {"auto", "always", "never"}, "auto", "live progress line; auto = when stderr is a terminal"),
      // safety
      locked(key("safety.classifier", KeyType::Path, "",
                 "toxicity classifier folder (safetune train-classifier); empty = no penalty")),
      locked(choice("safety.estimator", {"soft", "sampled"}, "soft",
                    "penalty estimator: soft = expected embeddings through the classifier (needs its vocabulary); "
                    "sampled = REINFORCE on sampled continuations scored as text (any classifier)")),
      locked(ranged(key("safety.temperature", KeyType::Number, 1.0, "τ in softmax(logits / τ) for the soft penalty"), 1e-3)),
      locked(ranged(key("safety.sample.temperature", KeyType::Number, 1.0, "sampled: sampling temperature"), 1e-3)),
      locked(ranged(key("safety.sample.max_new_tokens", KeyType::Int, 32, "sampled: tokens per sampled continuation"), 1)),
      locked(ranged(key("safety.sample.baseline_momentum", KeyType::Number, 0.9,
                        "sampled: running-mean baseline b <- m·b + (1-m)·(step's mean penalty)"), 0, 1)),
      key("safety.lambda", KeyType::Lambda, 0.0,
          "λ in CE + λ·penalty: a number, or {type: constant|linear_warmup|schedule|adaptive, ...} (see README)"),
      choice("safety.penalize", {"all", "task", "safety_mix"}, "all",
             "which examples of a batch the penalty scores: every one, task rows only, or safety-mix rows only"),
      // safety.mix: refusal mixing from a safety pool
      locked(key("safety.mix.pool", KeyType::Path, "",
                 "safety pool JSONL {prompt, response, category, behavior}; empty = no mixing")),
      locked(choice("safety.mix.strategy", {"random", "stratified", "prototype", "similar"}, "stratified",
                    "how the subset is chosen (README, \"Refusal mixing\")")),
      locked(key("safety.mix.budget", KeyType::Budget, "1%",
                 "subset size: a count, or \"P%\" of the task examples (rounded, at least 1)")),
      locked(key("safety.mix.behaviors", KeyType::StringList, json::array({"refusal"}),
                 "behaviour filter before selection; [] = every behaviour")),
      locked(key("safety.mix.categories", KeyType::StringList, json::array(),
                 "harm categories to draw from; [] = every category in the pool")),
      locked(ranged(key("safety.mix.per_batch", KeyType::Int, 2, "safety examples added to every micro-batch"), 0)),
      locked(ranged(key("safety.mix.ratio", KeyType::Number, 0.0,
                        "instead of per_batch: safety examples per task example (round(ratio x batch_size), at least 1)"), 0, 4)),
      ranged(key("safety.mix.loss_weight", KeyType::Number, 1.0, "CE weight of safety examples relative to task examples"), 0),
      locked(ranged(key("safety.mix.centroid_examples", KeyType::Int, 1024,
                        "task examples (a seeded sample) whose embeddings form the centroid for strategy similar"), 1)),
  };
}

// safetune train-classifier: a toxicity classifier on the language model's tokenizer.
std::vector<ConfigKey> build_classifier_schema() {
  const json required = nullptr;
  return {
      key("classifier.tokenizer", KeyType::Path, required,
          "tokenizer.model of the language model the classifier will judge (the soft penalty needs the same vocabulary)"),
      key("classifier.architecture", KeyType::Path, required,
          "JSON with the encoder's Llama dimensions (hidden_size, num_hidden_layers, ...; vocab_size = tokenizer pieces)"),
      key("data.train", KeyType::PathList, required, "labelled JSONL: {\"text\", \"label\": 0|1, \"category\"?}"),
      ranged(key("data.validation_fraction", KeyType::Number, 0.2, "share of examples held out for validation"), 0.01, 0.9),
      ranged(key("data.max_seq_len", KeyType::Int, 128, "tokens per text (longer ones are cut, counted)"), 4),
      choice("data.on_bad_line", {"error", "skip"}, "error", "malformed line: stop with file:line, or skip and count it"),
      key("train.output_dir", KeyType::Path, required, "classifier folder to write"),
      ranged(key("train.max_steps", KeyType::Int, 300, "optimizer steps"), 1),
      ranged(key("train.batch_size", KeyType::Int, 32, "texts per step"), 1),
      ranged(key("train.seed", KeyType::Int, 0, "seed for the split, shuffling and initialisation"), 0),
      ranged(key("train.max_grad_norm", KeyType::Number, 1.0, "gradient clipping norm; 0 disables"), 0),
      ranged(key("optim.lr", KeyType::Number, 1e-3, "peak learning rate (AdamW)"), 0),
      ranged(key("optim.weight_decay", KeyType::Number, 0.01, "decoupled weight decay on weight matrices"), 0),
      ranged(key("schedule.warmup_steps", KeyType::Int, 20, "steps of linear warmup"), 0),
      ranged(key("eval.target_fpr", KeyType::Number, 0.05,
                 "false-positive rate at which the decision threshold is chosen on the validation split"), 0, 1),
      ranged(key("log.every_steps", KeyType::Int, 50, "steps between progress lines"), 1),
  };
}

std::string describe_expected(const ConfigKey& k) {
  std::string range;
  if (k.min && k.max) range = fmt::format(" in [{}, {}]", *k.min, *k.max);
  else if (k.min) range = fmt::format(" >= {}", *k.min);
  switch (k.type) {
    case KeyType::Int: return "an integer" + range;
    case KeyType::Number: return "a number" + range;
    case KeyType::Bool: return "true or false";
    case KeyType::String: return "a string";
    case KeyType::Choice: return fmt::format("one of {}", fmt::join(k.choices, ", "));
    case KeyType::Path: return "a path";
    case KeyType::PathList: return "a path or a list of paths";
    case KeyType::Lambda: return "a number >= 0 or a λ object";
    case KeyType::StringList: return "a list of strings";
    case KeyType::Budget: return "a count >= 1 or a percentage string such as \"1%\"";
  }
  return "?";
}

// Checks and normalises one value (relative paths resolved against `base_dir`).
json check_value(const ConfigKey& k, const json& v, const std::string& label, const std::string& base_dir) {
  auto bad = [&]() { fail_input("{}: {}: expected {}, got {}", label, k.path, describe_expected(k), v.dump()); };
  auto resolve = [&](const json& p) -> json {
    if (p == "" && k.default_value == "") return "";  // an optional path left unset
    if (!p.is_string() || p.get<std::string>().empty()) bad();
    fs::path path(p.get<std::string>());
    return (path.is_absolute() || base_dir.empty() ? path : fs::path(base_dir) / path).lexically_normal().string();
  };
  switch (k.type) {
    case KeyType::Int: {
      if (!v.is_number_integer()) {
        // 1e3 or 100.0 are integers written as floats; accept them when exact.
        if (!v.is_number_float() || v.get<double>() != static_cast<double>(static_cast<int64_t>(v.get<double>()))) bad();
      }
      const double d = v.get<double>();
      if ((k.min && d < *k.min) || (k.max && d > *k.max)) bad();
      return static_cast<int64_t>(d);
    }
    case KeyType::Number: {
      if (!v.is_number()) bad();
      const double d = v.get<double>();
      if (!std::isfinite(d) || (k.min && d < *k.min) || (k.max && d > *k.max)) bad();
      return v;
    }
    case KeyType::Bool:
      if (!v.is_boolean()) bad();
      return v;
    case KeyType::String:
      if (!v.is_string()) bad();
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
      for (const auto& item : v)
        if (!item.is_string() || item.get<std::string>().empty()) bad();
      return v;
    case KeyType::Budget:
      if (v.is_number_integer() && v.get<int64_t>() >= 1) return v;
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

// Every leaf of `user` must be a schema key; reports the nearest valid key otherwise.
void reject_unknown_keys(const json& node, const std::string& prefix, const std::string& label, const Schema& schema) {
  for (const auto& [name, value] : node.items()) {
    const std::string path = prefix.empty() ? name : prefix + "." + name;
    if (find_config_key(path, schema)) continue;
    bool is_section = false;
    for (const auto& k : schema) is_section = is_section || k.path.rfind(path + ".", 0) == 0;
    if (is_section) {
      ST_CHECK_INPUT(value.is_object(), "{}: '{}' must be an object (a config section), got {}", label, path, value.dump());
      reject_unknown_keys(value, path, label, schema);
      continue;
    }
    const auto hint = nearest(path, all_paths(schema));
    fail_input("{}: unknown key '{}'{}", label, path, hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint));
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

const Schema& config_schema() {
  static const Schema schema = build_schema();
  return schema;
}

const Schema& classifier_config_schema() {
  static const Schema schema = build_classifier_schema();
  return schema;
}

const Schema& eval_config_schema() {
  // The training schema with nothing required: `safetune eval` reads a run's own config or a short file
  // with only the eval keys, and ignores what only training uses.
  static const Schema schema = [] {
    Schema s = build_schema();
    for (auto& k : s)
      if (k.default_value.is_null()) k.default_value = k.type == KeyType::PathList ? json::array() : k.type == KeyType::Int ? json(1) : json("");
    return s;
  }();
  return schema;
}

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
    if (!find_config_key(k, schema)) {
      const auto hint = nearest(k, all_paths(schema));
      fail_input("--set {}: unknown key '{}'{}", o, k, hint.empty() ? "" : fmt::format("; did you mean '{}'?", hint));
    }
    // A value is JSON when it parses as JSON (numbers, booleans, lists), otherwise a plain string.
    json v = json::parse(raw, nullptr, /*allow_exceptions=*/false);
    if (v.is_discarded()) v = raw;
    // Paths given on the command line are relative to the working directory, not the config file.
    const auto* schema_key = find_config_key(k, schema);
    if (schema_key->type == KeyType::Path || schema_key->type == KeyType::PathList) v = check_value(*schema_key, v, "--set", fs::current_path().string());
    set_dotted(user, k, v);
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

int64_t Config::integer(const std::string& key) const { return at(key).get<int64_t>(); }
double Config::number(const std::string& key) const { return at(key).get<double>(); }
const nlohmann::json& Config::raw(const std::string& key) const { return at(key); }
bool Config::boolean(const std::string& key) const { return at(key).get<bool>(); }
std::string Config::string(const std::string& key) const { return at(key).get<std::string>(); }
std::vector<std::string> Config::paths(const std::string& key) const { return at(key).get<std::vector<std::string>>(); }

DataOptions data_options(const Config& c) {
  DataOptions o;
  o.format = c.string("data.format");
  o.chat_template = c.string("data.template");
  o.system_prompt = c.string("data.system_prompt");
  o.max_seq_len = c.integer("data.max_seq_len");
  o.truncation = c.string("data.truncation");
  o.on_bad_line = c.string("data.on_bad_line");
  return o;
}

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
    if (a != b) out.push_back(fmt::format("{}: {} -> {}", k.path, a.dump(), b.dump()));
  }
  return out;
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

}  // namespace st
