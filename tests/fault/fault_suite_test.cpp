// tests/fault/fault_suite_test.cpp — the fault suite: bad configs (every schema key), data files, model and
// classifier folders, checkpoint corruptions and command lines, generated here and each run through the real
// binary with a timeout. Every case must end with its documented exit code (2 for bad input) and a message
// naming the file or key, never a crash or a hang, and leave every input byte-identical.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/stat.h>

#include <atomic>
#include <cmath>
#include <map>
#include <mutex>

#include "common/json_file.h"
#include "models/safetensors.h"
#include "tests/fault/fault_runner.h"
#include "tests/test_util.h"
#include "trainer/config.h"

namespace st::test {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

struct FaultCase {
  std::string category;  // config key, config file, data, model, classifier, checkpoint, command line
  std::string name;
  std::vector<std::string> args;  // after `safetune`
  std::string names;              // the message must contain this: the file, folder or key at fault
  int code = 2;
  std::string dir;  // the case's own folder: everything in it but run/ must be unchanged afterwards
};

// The shared inputs every case reads (a tiny model, data, a classifier, a finished run to corrupt).
class FaultWorld {
 public:
  explicit FaultWorld(const std::string& root) : root_(root) {
    fs::create_directories(shared("data"));
    fs::copy(fixture("golden/gqa_default_rope"), shared("model"), fs::copy_options::recursive);
    for (const auto& [from, to] : {std::pair{"train/train.jsonl", "data/train.jsonl"}, {"train/validation.jsonl", "data/val.jsonl"},
                                   {"safety/pool.jsonl", "data/pool.jsonl"}, {"safety/harmful_eval.jsonl", "data/harmful.jsonl"},
                                   {"safety/benign_eval.jsonl", "data/benign.jsonl"}, {"safety/labelled.jsonl", "data/labelled.jsonl"}})
      fs::copy_file(fixture(from), shared(to));
    train_classifier_folder();
    finished_run_ = root_ + "/finished";
    write_config(root_ + "/finished.json", base_config(finished_run_));
    const auto r = run_safetune("train --config " + shell_quote(root_ + "/finished.json"));
    if (r.exit_code != 0) ADD_FAILURE() << "the run the checkpoint cases corrupt failed:\n" << r.output;
  }

  std::string shared(const std::string& relative) const { return root_ + "/shared/" + relative; }
  const std::string& finished_run() const { return finished_run_; }

  // A small valid run: 2 steps of 4 examples, a checkpoint after each.
  json base_config(const std::string& output_dir) const {
    return {{"model", {{"path", shared("model")}, {"device", "cpu"}}},
            {"data", {{"train", shared("data/train.jsonl")}, {"max_seq_len", 64}}},
            {"train", {{"output_dir", output_dir}, {"max_steps", 2}, {"batch_size", 4}, {"seed", 1}}},
            {"checkpoint", {{"every_steps", 1}, {"keep_last", 3}}},
            {"log", {{"every_steps", 1}, {"progress", "never"}}}};
  }

  static void write_config(const std::string& path, const json& config) { write_text_file_atomic(path, config.dump(2)); }

 private:
  void train_classifier_folder() {
    write_text_file_atomic(root_ + "/arch.json", R"({"vocab_size": 256, "hidden_size": 16, "intermediate_size": 32,
      "num_hidden_layers": 1, "num_attention_heads": 2, "max_position_embeddings": 128})");
    const json cls = {{"classifier", {{"tokenizer", shared("model")}, {"architecture", root_ + "/arch.json"}}},
                      {"data", {{"train", shared("data/labelled.jsonl")}}},
                      {"train", {{"output_dir", shared("classifier")}, {"max_steps", 20}, {"batch_size", 16}}}};
    write_config(root_ + "/cls.json", cls);
    const auto r = run_safetune("train-classifier --config " + shell_quote(root_ + "/cls.json"));
    if (r.exit_code != 0) ADD_FAILURE() << "the classifier the classifier cases mutate failed to train:\n" << r.output;
  }

  std::string root_, finished_run_;
};

// ---- generators: each adds cases, with whatever files they need in their own folder --------------------

class CaseBuilder {
 public:
  CaseBuilder(const FaultWorld& world, std::string root) : world_(world), root_(std::move(root)) {}

  std::vector<FaultCase>& cases() { return cases_; }

  // A new case folder with a config: `edit` changes the base config; the case trains with it.
  FaultCase& train_case(const std::string& category, const std::string& name, const std::function<void(json&, const std::string&)>& edit,
                        const std::string& names, std::vector<std::string> extra_args = {}) {
    FaultCase& c = new_case(category, name, names);
    json config = world_.base_config(c.dir + "/run");
    edit(config, c.dir);
    FaultWorld::write_config(c.dir + "/run.json", config);
    c.args = {"train", "--config", c.dir + "/run.json"};
    c.args.insert(c.args.end(), extra_args.begin(), extra_args.end());
    return c;
  }

  FaultCase& new_case(const std::string& category, const std::string& name, const std::string& names) {
    FaultCase c{category, name, {}, names, 2, fmt::format("{}/{:04d}", root_, cases_.size())};
    fs::create_directories(c.dir);
    cases_.push_back(std::move(c));
    return cases_.back();
  }

  const FaultWorld& world() const { return world_; }

 private:
  const FaultWorld& world_;
  std::string root_;
  std::vector<FaultCase> cases_;
};

void set_dotted(json& root, const std::string& key, json value) {
  json* node = &root;
  size_t start = 0;
  for (size_t dot; (dot = key.find('.', start)) != std::string::npos; start = dot + 1) node = &(*node)[key.substr(start, dot - start)];
  (*node)[key.substr(start)] = std::move(value);
}

// Values of the wrong type and out of range for one schema key.
std::vector<json> bad_values(const ConfigKey& k) {
  switch (k.type) {
    case KeyType::Int:
      return {"seven", 2.5, k.min.value_or(0) - 1, k.max.value_or(0) + 1, 18446744073709551615.0};
    case KeyType::Number: {
      std::vector<json> v = {"x", json::array({1})};
      if (k.min) v.push_back(k.min_exclusive ? *k.min : *k.min - 1);
      if (k.max) v.push_back(k.max_exclusive ? *k.max : *k.max * 2 + 1);
      return v;
    }
    case KeyType::Bool: return {"yes", 1};
    case KeyType::Choice: return {"no-such-choice", 3};
    case KeyType::String: return {5, std::string("a\0b", 3)};
    case KeyType::Path: return {5, std::string("a\0b", 3), json::object()};
    case KeyType::PathList: return {5, json::array({5}), json::array({""})};
    case KeyType::StringList: return {"x", json::array({1}), json::array({""})};
    case KeyType::IntList: return {3, json::array({"1"}), json::array({1.5}), json::array({-1})};
    case KeyType::Lambda: return {"x", -1, json{{"type", "bogus"}}};
    case KeyType::Budget: return {0, "150%", "x", 1e12};
  }
  return {};
}

// Every key of the schema with a value of the wrong type in the file and one out of range (or of another
// wrong kind) through --set: two processes per key keep the suite within its time budget; every value of
// bad_values is tried in-process by FaultSuite.EveryBadValueOfEveryKeyIsRefusedInProcess.
void add_config_key_cases(CaseBuilder& b) {
  for (const auto& k : config_schema()) {
    const auto values = bad_values(k);
    b.train_case("config key", k.path + "=" + json_excerpt(values.front(), 30),
                 [&](json& c, const std::string&) { set_dotted(c, k.path, values.front()); }, k.path);
    const std::string set = k.path + "=" + (values.back().is_string() ? values.back().get<std::string>() : values.back().dump());
    if (set.find('\0') == std::string::npos)
      b.train_case("config key", "--set " + set, [](json&, const std::string&) {}, k.path, {"--set", set});
  }
}

std::string nested(int depth, const std::string& leaf = "1") {
  return std::string(static_cast<size_t>(depth), '[') + leaf + std::string(static_cast<size_t>(depth), ']');
}

// Whole config files that are not what a config must be, and sizes that used to hang or wrap.
void add_config_file_cases(CaseBuilder& b) {
  const std::string base = b.world().base_config("RUN").dump();
  auto raw = [&](const std::string& name, const std::string& text) {
    FaultCase& c = b.new_case("config file", name, "");
    write_text_file_atomic(c.dir + "/run.json", text);
    c.names = c.dir + "/run.json";
    c.args = {"train", "--config", c.names};
  };
  raw("empty file", "");
  raw("not an object", "[1, 2]");
  raw("truncated", base.substr(0, base.size() / 2));
  raw("binary", std::string("\x00\xff\xfe{\x01", 5));
  raw("nested 100000 deep in a value", R"({"train": {"max_steps": )" + nested(100000) + "}}");
  raw("nested 100000 deep under an unknown key", R"({"zzz": )" + nested(100000) + "}");
  raw("duplicate top-level key", R"({"train": {"max_steps": 1}, "train": {"max_steps": 2}})");
  raw("duplicate nested key", R"({"train": {"max_steps": 1, "max_steps": 2}})");
  raw("number overflow", R"({"train": {"max_steps": 1e400}})");
  auto edit = [&](const std::string& name, const std::string& key, json value) {
    b.train_case("config file", name, [=](json& c, const std::string&) { set_dotted(c, key, value); }, key);
  };
  edit("max_steps 2^63-1", "train.max_steps", 9223372036854775807LL);
  edit("batch_size 2^63-1", "train.batch_size", 9223372036854775807LL);
  edit("grad_accum 2^40", "train.grad_accum", 1099511627776LL);
  edit("beta1 = 1", "optim.beta1", 1);
  edit("beta2 = 1", "optim.beta2", 1);
  edit("eps = 0", "optim.eps", 0);
  edit("unknown key", "train.max_stepz", 3);
  edit("NUL inside a path", "data.train", std::string("x.jsonl\0.txt", 12));
  b.train_case("config file", "--set nested 10000 deep", [](json&, const std::string&) {}, "--set",
               {"--set", "train.max_steps=" + nested(10000)});  // an argument may hold 128 KiB
  b.train_case("config file", "--set a broken list", [](json&, const std::string&) {}, "--set", {"--set", "data.train=[a.jsonl"});
  b.train_case("config file", "output folder is the model folder",
               [&](json& c, const std::string&) { c["train"]["output_dir"] = b.world().shared("model"); }, "overlaps");
  b.train_case("config file", "output folder is the training data",
               [&](json& c, const std::string&) { c["train"]["output_dir"] = b.world().shared("data/train.jsonl"); }, "overlaps");
  b.train_case("config file", "output folder under a file", [](json& c, const std::string& dir) {
    write_text_file_atomic(dir + "/afile", "x");
    c["train"]["output_dir"] = dir + "/afile/run";
  }, "train.output_dir");
  for (const auto& [name, path] : {std::pair{"config is a folder", std::string("/")}, {"config is missing", std::string("/no/such.json")},
                                   {"config is /dev/zero", std::string("/dev/zero")}}) {
    FaultCase& c = b.new_case("config file", name, path);
    c.args = {"train", "--config", path};
  }
  FaultCase& fifo = b.new_case("config file", "config is a FIFO", "");
  fifo.names = fifo.dir + "/run.json";
  ::mkfifo(fifo.names.c_str(), 0644);
  fifo.args = {"train", "--config", fifo.names};
}

// Bad lines and bad kinds of file for each JSONL input of a run.
void add_data_cases(CaseBuilder& b) {
  const std::vector<std::pair<std::string, std::string>> bad_lines = {
      {"not JSON", "{oops"},
      {"a list", "[1, 2]"},
      {"a number", "42"},
      {"wrong field type", R"({"prompt": 5, "completion": ["x"], "response": 1, "category": 2, "messages": 3, "behavior": 4})"},
      {"nested 100000 deep", R"({"prompt": )" + nested(100000, "\"x\"") + "}"},
      {"duplicate key", R"({"prompt": "a", "prompt": "b", "completion": "c", "response": "c", "category": "x"})"},
      {"number overflow", R"({"prompt": "a", "completion": "b", "n": 1e999})"},
      {"no fields", "{}"},
  };
  const std::vector<std::pair<std::string, std::string>> roles = {
      {"data.train", "train.jsonl"}, {"data.validation", "val.jsonl"}, {"safety.mix.pool", "pool.jsonl"},
      {"eval.harmful", "harmful.jsonl"}, {"eval.benign", "benign.jsonl"}};
  for (const auto& [key, file] : roles) {
    const std::string good = read_text_file(b.world().shared("data/" + file));
    for (const auto& [what, line] : bad_lines)
      b.train_case("data", key + ": " + what, [&, key = key, file = file](json& c, const std::string& dir) {
        write_text_file_atomic(dir + "/" + file, good.substr(0, good.find('\n') + 1) + line + "\n" + good);
        set_dotted(c, key, dir + "/" + file);
      }, file + ":2");
    auto kind = [&, key = key](const std::string& what, const std::function<std::string(const std::string&)>& make) {
      std::string path;
      FaultCase& c = b.train_case("data", key + ": " + what, [&](json& config, const std::string& dir) {
        path = make(dir);
        set_dotted(config, key, path);
      }, "");
      c.names = path;
    };
    kind("a FIFO", [](const std::string& dir) { ::mkfifo((dir + "/fifo.jsonl").c_str(), 0644); return dir + "/fifo.jsonl"; });
    kind("/dev/zero", [](const std::string&) { return std::string("/dev/zero"); });
    kind("a folder", [](const std::string& dir) { fs::create_directories(dir + "/folder.jsonl"); return dir + "/folder.jsonl"; });
    kind("missing", [](const std::string& dir) { return dir + "/missing.jsonl"; });
    kind("binary", [](const std::string& dir) {
      write_text_file_atomic(dir + "/binary.jsonl", std::string("\x00\x01\xff\xfe\n\x7f", 6));
      return dir + "/binary.jsonl";
    });
  }
}

// A copy of the tiny model with one file changed.
std::string model_copy(const FaultWorld& w, const std::string& dir) {
  fs::copy(w.shared("model"), dir + "/model", fs::copy_options::recursive);
  return dir + "/model";
}

void edit_model_config(const std::string& model, const std::function<void(json&)>& edit) {
  json config = read_json_file(model + "/config.json");
  edit(config);
  write_text_file_atomic(model + "/config.json", config.dump(2));
}

// Safetensors with one tensor's values replaced by `value` (NaN, infinity).
void poison_weights(const std::string& folder, const std::string& file, double value) {
  const auto store = TensorStore::open_file(folder + "/" + file);
  NamedTensors tensors;
  for (const auto& [name, _] : store.entries()) tensors.emplace_back(name, store.tensor(name).clone());
  tensors.front().second.view(-1)[0] = value;
  save_safetensors(folder + "/" + file, tensors, {{"format", "pt"}});
}

void add_model_cases(CaseBuilder& b) {
  const std::vector<std::pair<std::string, std::function<void(json&)>>> config_edits = {
      {"vocab_size 1e12", [](json& c) { c["vocab_size"] = 1000000000000LL; }},
      {"vocab_size 0", [](json& c) { c["vocab_size"] = 0; }},
      {"vocab_size as a string", [](json& c) { c["vocab_size"] = "256"; }},
      {"vocab_size 300 (weights have 256)", [](json& c) { c["vocab_size"] = 300; }},
      {"hidden_size 2^40", [](json& c) { c["hidden_size"] = 1099511627776LL; }},
      {"num_hidden_layers 1e9", [](json& c) { c["num_hidden_layers"] = 1000000000; }},
      {"num_hidden_layers 3 (weights have 2)", [](json& c) { c["num_hidden_layers"] = 3; }},
      {"intermediate_size 1e9", [](json& c) { c["intermediate_size"] = 1000000000; }},
      {"num_attention_heads 3", [](json& c) { c["num_attention_heads"] = 3; }},
      {"num_key_value_heads -1", [](json& c) { c["num_key_value_heads"] = -1; }},
      {"head_dim 1e6", [](json& c) { c["head_dim"] = 1000000; }},
      {"max_position_embeddings 2^62", [](json& c) { c["max_position_embeddings"] = 4611686018427387904LL; }},
      {"rope_theta 0", [](json& c) { c["rope_parameters"]["rope_theta"] = 0; }},
      {"rope_theta -1", [](json& c) { c.erase("rope_parameters"); c["rope_theta"] = -1; }},
      {"rope_theta a string", [](json& c) { c["rope_parameters"]["rope_theta"] = "big"; }},
      {"rope_parameters nested 50 deep", [](json& c) { c["rope_parameters"] = json::parse(nested(50)); }},
      {"rope_parameters unknown type", [](json& c) { c["rope_parameters"]["rope_type"] = "yarn"; }},
      {"rms_norm_eps 0", [](json& c) { c["rms_norm_eps"] = 0; }},
      {"model_type gpt2", [](json& c) { c["model_type"] = "gpt2"; }},
      {"eos_token_id 2^40", [](json& c) { c["eos_token_id"] = 1099511627776LL; }},
      {"bos_token_id a list", [](json& c) { c["bos_token_id"] = json::array({1}); }},
      {"hidden_act gelu", [](json& c) { c["hidden_act"] = "gelu"; }},
      {"config is a list", [](json& c) { c = json::array(); }},
  };
  for (const auto& [what, edit] : config_edits)
    b.train_case("model", what, [&](json& c, const std::string& dir) {
      c["model"]["path"] = model_copy(b.world(), dir);
      edit_model_config(dir + "/model", edit);
    }, "/model");
  const std::vector<std::pair<std::string, std::function<void(const std::string&)>>> file_faults = {
      {"config.json nested 100000 deep", [](const std::string& m) { write_text_file_atomic(m + "/config.json", R"({"rope_scaling": )" + nested(100000) + "}"); }},
      {"config.json duplicate key", [](const std::string& m) {
         write_text_file_atomic(m + "/config.json", "{\"vocab_size\": 256, " + read_text_file(m + "/config.json").substr(1));
       }},
      {"config.json missing", [](const std::string& m) { fs::remove(m + "/config.json"); }},
      {"config.json a FIFO", [](const std::string& m) { fs::remove(m + "/config.json"); ::mkfifo((m + "/config.json").c_str(), 0644); }},
      {"model.safetensors truncated", [](const std::string& m) {
         const auto bytes = read_text_file(m + "/model.safetensors");
         write_text_file_atomic(m + "/model.safetensors", bytes.substr(0, bytes.size() / 2));
       }},
      {"model.safetensors empty", [](const std::string& m) { write_text_file_atomic(m + "/model.safetensors", ""); }},
      {"model.safetensors garbage", [](const std::string& m) { write_text_file_atomic(m + "/model.safetensors", std::string(4096, 'x')); }},
      {"model.safetensors a FIFO", [](const std::string& m) {
         fs::remove(m + "/model.safetensors");
         ::mkfifo((m + "/model.safetensors").c_str(), 0644);
       }},
      {"model.safetensors -> /dev/zero", [](const std::string& m) {
         fs::remove(m + "/model.safetensors");
         fs::create_symlink("/dev/zero", m + "/model.safetensors");
       }},
      {"a NaN weight", [](const std::string& m) { poison_weights(m, "model.safetensors", std::nan("")); }},
      {"an infinite weight", [](const std::string& m) { poison_weights(m, "model.safetensors", INFINITY); }},
      {"tokenizer.model garbage", [](const std::string& m) { write_text_file_atomic(m + "/tokenizer.model", "not a tokenizer"); }},
      {"tokenizer.model empty", [](const std::string& m) { write_text_file_atomic(m + "/tokenizer.model", ""); }},
      {"tokenizer.model missing", [](const std::string& m) { fs::remove(m + "/tokenizer.model"); }},
      {"tokenizer.model a FIFO", [](const std::string& m) {
         fs::remove(m + "/tokenizer.model");
         ::mkfifo((m + "/tokenizer.model").c_str(), 0644);
       }},
  };
  for (const auto& [what, fault] : file_faults) {
    b.train_case("model", what, [&](json& c, const std::string& dir) {
      c["model"]["path"] = model_copy(b.world(), dir);
      fault(dir + "/model");
    }, "/model");
    // The same folder through the other commands that load a model.
    for (const std::string command : {"generate", "eval"}) {
      FaultCase& c = b.new_case("model", command + ": " + what, "/model");
      fault(model_copy(b.world(), c.dir));
      c.args = {command, "--model", c.dir + "/model"};
      if (command == "generate") c.args.insert(c.args.end(), {"--prompt", "hi", "--max-new-tokens", "2"});
      if (command == "eval") {
        FaultWorld::write_config(c.dir + "/eval.json", {{"eval", {{"harmful", b.world().shared("data/harmful.jsonl")}, {"max_new_tokens", 2}}}});
        c.args.insert(c.args.end(), {"--config", c.dir + "/eval.json"});
      }
    }
  }
}

std::string classifier_copy(const FaultWorld& w, const std::string& dir) {
  fs::copy(w.shared("classifier"), dir + "/classifier", fs::copy_options::recursive);
  return dir + "/classifier";
}

void add_classifier_cases(CaseBuilder& b) {
  const std::vector<std::pair<std::string, std::function<void(const std::string&)>>> faults = {
      {"threshold 2.0", [](const std::string& d) { edit_model_config(d, [](json& c) { c["safetune_classifier"]["threshold"] = 2.0; }); }},
      {"threshold -1", [](const std::string& d) { edit_model_config(d, [](json& c) { c["safetune_classifier"]["threshold"] = -1; }); }},
      {"threshold a string", [](const std::string& d) { edit_model_config(d, [](json& c) { c["safetune_classifier"]["threshold"] = "high"; }); }},
      {"pooling a number", [](const std::string& d) { edit_model_config(d, [](json& c) { c["safetune_classifier"]["pooling"] = 5; }); }},
      {"tokenizer_sha256 a number", [](const std::string& d) { edit_model_config(d, [](json& c) { c["safetune_classifier"]["tokenizer_sha256"] = 5; }); }},
      {"categories a string", [](const std::string& d) { edit_model_config(d, [](json& c) { c["safetune_classifier"]["categories"] = "x"; }); }},
      {"not a classifier", [](const std::string& d) { edit_model_config(d, [](json& c) { c["architectures"] = {"LlamaForCausalLM"}; }); }},
      {"hidden_size 2^40", [](const std::string& d) { edit_model_config(d, [](json& c) { c["hidden_size"] = 1099511627776LL; }); }},
      {"a NaN weight", [](const std::string& d) { poison_weights(d, "model.safetensors", std::nan("")); }},
      {"weights truncated", [](const std::string& d) {
         const auto bytes = read_text_file(d + "/model.safetensors");
         write_text_file_atomic(d + "/model.safetensors", bytes.substr(0, bytes.size() - 64));
       }},
      {"config.json missing", [](const std::string& d) { fs::remove(d + "/config.json"); }},
  };
  for (const auto& [what, fault] : faults) {
    b.train_case("classifier", what, [&](json& c, const std::string& dir) {
      c["safety"]["classifier"] = classifier_copy(b.world(), dir);
      c["safety"]["lambda"] = 1.0;
      fault(dir + "/classifier");
    }, "/classifier");
    FaultCase& c = b.new_case("classifier", "score: " + what, "/classifier");
    fault(classifier_copy(b.world(), c.dir));
    c.args = {"score", "--classifier", c.dir + "/classifier", "--input", b.world().shared("data/labelled.jsonl")};
  }
  // The folder's tokenizer is not the one the classifier was trained with (its recorded checksum differs).
  FaultCase& swapped = b.new_case("classifier", "score: tokenizer swapped", "tokenizer");
  edit_model_config(classifier_copy(b.world(), swapped.dir),
                    [](json& c) { c["safetune_classifier"]["tokenizer_sha256"] = std::string(64, 'a'); });
  swapped.args = {"score", "--classifier", swapped.dir + "/classifier", "--input", b.world().shared("data/labelled.jsonl")};
}

// A copy of the finished run whose checkpoints `corrupt` damages; the case resumes it for one more step.
void add_checkpoint_case(CaseBuilder& b, const std::string& name, const std::function<void(const fs::path&)>& corrupt,
                         const std::string& names, int code = 2, std::vector<std::string> extra = {}) {
  FaultCase& c = b.train_case("checkpoint", name, [](json& config, const std::string&) { config["train"]["max_steps"] = 3; }, names, extra);
  fs::copy(b.world().finished_run(), c.dir + "/run", fs::copy_options::recursive);
  fs::remove(c.dir + "/run/.lock");
  corrupt(fs::path(c.dir) / "run" / "checkpoints");
  c.code = code;
}

// Rewrites one checkpoint file and its checksum in COMPLETE, as a forger would.
void forge_state(const fs::path& checkpoint, const std::function<void(json&)>& edit) {
  json state = read_json_file((checkpoint / "trainer_state.json").string());
  edit(state);
  write_text_file_atomic((checkpoint / "trainer_state.json").string(), state.dump());
  json complete = read_json_file((checkpoint / "COMPLETE").string());
  complete["sha256"]["trainer_state.json"] = sha256_file((checkpoint / "trainer_state.json").string());
  write_text_file_atomic((checkpoint / "COMPLETE").string(), complete.dump());
}

void add_checkpoint_cases(CaseBuilder& b) {
  auto each = [](const fs::path& root, const std::function<void(const fs::path&)>& f) {
    for (const auto& e : fs::directory_iterator(root))
      if (e.path().filename().string().rfind("step-", 0) == 0) f(e.path());
  };
  add_checkpoint_case(b, "every COMPLETE marker gone", [&](const fs::path& r) { each(r, [](const fs::path& p) { fs::remove(p / "COMPLETE"); }); },
                      "none of its");
  add_checkpoint_case(b, "every weight file corrupt", [&](const fs::path& r) {
    each(r, [](const fs::path& p) { write_text_file_atomic((p / "model.safetensors").string(), "damaged"); });
  }, "none of its");
  add_checkpoint_case(b, "newest corrupt, an older one resumes", [](const fs::path& r) {
    write_text_file_atomic((r / "step-00000002" / "optimizer.safetensors").string(), "damaged");
  }, "", 0);
  const std::vector<std::pair<std::string, std::function<void(json&)>>> forged = {
      {"cursor.index 999999", [](json& s) { s["cursor"]["index"] = 999999; }},
      {"step -5", [](json& s) { s["step"] = -5; }},
      {"step 2^63", [](json& s) { s["step"] = 9223372036854775808ULL; }},
      {"format 99", [](json& s) { s["format"] = 99; }},
      {"optimizer_steps a string", [](json& s) { s["optimizer_steps"] = "two"; }},
      {"cursor missing", [](json& s) { s.erase("cursor"); }},
      {"lambda_scale -1", [](json& s) { s["lambda_scale"] = -1; }},
      {"best_step past the step", [](json& s) { s["best_step"] = 50; }},
      {"a list", [](json& s) { s = json::array(); }},
  };
  for (const auto& [what, edit] : forged)
    add_checkpoint_case(b, "forged trainer_state: " + what, [&, edit = edit](const fs::path& r) {
      fs::remove_all(r / "step-00000001");
      forge_state(r / "step-00000002", edit);
    }, "trainer_state.json");
  add_checkpoint_case(b, "--resume PATH to a corrupt checkpoint", [](const fs::path& r) {
    fs::remove(r / "step-00000002" / "COMPLETE");
  }, "--resume", 2, {"--resume", "CHECKPOINT"});
  auto& last = b.cases().back();
  for (auto& a : last.args)
    if (a == "CHECKPOINT") a = last.dir + "/run/checkpoints/step-00000002";
}

void add_command_line_cases(CaseBuilder& b) {
  const auto& w = b.world();
  const std::string model = w.shared("model"), classifier = w.shared("classifier"), labelled = w.shared("data/labelled.jsonl");
  auto cl = [&](const std::string& name, std::vector<std::string> args, const std::string& names) {
    FaultCase& c = b.new_case("command line", name, names);
    for (auto& a : args)
      if (a == "DIR") a = c.dir;
      else if (a == "FIFO") ::mkfifo((a = c.dir + "/fifo").c_str(), 0644);
    c.args = std::move(args);
  };
  for (const auto& t : {"nan", "2", "-1", "x"})
    cl(std::string("score --threshold ") + t, {"score", "--classifier", classifier, "--input", labelled, "--threshold", t}, "--threshold");
  cl("score --input a folder", {"score", "--classifier", classifier, "--input", "DIR"}, "folder");
  cl("score --input a FIFO", {"score", "--classifier", classifier, "--input", "FIFO"}, "FIFO");
  for (const auto& n : {"0", "1000000000000", "abc"})
    cl(std::string("generate --max-new-tokens ") + n, {"generate", "--model", model, "--prompt", "hi", "--max-new-tokens", n}, "--max-new-tokens");
  cl("generate --temperature nan", {"generate", "--model", model, "--prompt", "hi", "--temperature", "nan"}, "--temperature");
  cl("generate --batch-size 2^40", {"generate", "--model", model, "--prompt", "hi", "--batch-size", "1099511627776"}, "--batch-size");
  cl("generate --input a FIFO", {"generate", "--model", model, "--input", "FIFO"}, "FIFO");
  cl("generate --input /dev/zero", {"generate", "--model", model, "--input", "/dev/zero"}, "/dev/zero");
  cl("inspect a FIFO", {"inspect", "FIFO"}, "FIFO");
  cl("inspect /dev/zero", {"inspect", "/dev/zero"}, "/dev/zero");
  cl("train --resume a missing folder", {"train", "--config", w.shared("../finished.json"), "--resume", "/no/such"}, "--resume");
  cl("sweep --grid without values", {"sweep", "--config", w.shared("../finished.json"), "--grid", "safety.lambda="}, "--grid");
  cl("sweep --grid an unknown key", {"sweep", "--config", w.shared("../finished.json"), "--grid", "safety.lambdaa=1,2"}, "safety.lambdaa");
}

// ---- the suite -------------------------------------------------------------------------------------------

struct Verdict {
  std::string problem;  // empty when the case behaved
  double seconds = 0;
};

Verdict run_case(const FaultCase& c) {
  const auto before = snapshot(c.dir, c.dir + "/run");
  const auto started = std::chrono::steady_clock::now();
  const auto out = run_with_timeout(c.args, c.dir + ".log", std::chrono::seconds(60));
  Verdict v{"", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()};
  if (out.timed_out) v.problem = "hung (killed after 60 s)";
  else if (out.exit_code != c.code) v.problem = fmt::format("exit {} (expected {})", out.exit_code, c.code);
  else if (c.code == 2 && out.output.find(c.names) == std::string::npos) v.problem = fmt::format("the message does not name '{}'", c.names);
  else if (c.code == 2 && out.output.find("safetune: error: ") == std::string::npos) v.problem = "no 'safetune: error:' line";
  else if (snapshot(c.dir, c.dir + "/run") != before) v.problem = "an input changed";
  if (!v.problem.empty()) v.problem += "\n    output: " + text_excerpt(out.output, 600);
  return v;
}

TEST(FaultSuite, EveryCaseExitsAsDocumentedNamesTheCulpritAndLeavesInputsAlone) {
  TempDir dir;
  const FaultWorld world(dir.str());
  ASSERT_FALSE(::testing::Test::HasFailure());
  const auto shared_before = snapshot(dir / "shared");
  CaseBuilder b(world, dir / "cases");
  add_config_key_cases(b);
  add_config_file_cases(b);
  add_data_cases(b);
  add_model_cases(b);
  add_classifier_cases(b);
  add_checkpoint_cases(b);
  add_command_line_cases(b);
  const auto& cases = b.cases();

  std::vector<Verdict> verdicts(cases.size());
  std::atomic<size_t> next{0};
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < std::max(2u, std::thread::hardware_concurrency()); ++t)
    workers.emplace_back([&] {
      for (size_t i; (i = next++) < cases.size();) verdicts[i] = run_case(cases[i]);
    });
  for (auto& w : workers) w.join();

  std::map<std::string, std::pair<int, int>> per_category;  // cases, passed
  for (size_t i = 0; i < cases.size(); ++i) {
    auto& [n, ok] = per_category[cases[i].category];
    ++n;
    ok += verdicts[i].problem.empty();
    EXPECT_TRUE(verdicts[i].problem.empty()) << "[" << cases[i].category << "] " << cases[i].name << ": " << verdicts[i].problem;
  }
  std::string table;
  for (const auto& [category, counts] : per_category) table += fmt::format("  {:<14} {:>4} cases, {:>4} as documented\n", category, counts.first, counts.second);
  fmt::print("fault suite: {} cases\n{}", cases.size(), table);
  EXPECT_GE(cases.size(), 300u);
  EXPECT_EQ(snapshot(dir / "shared"), shared_before) << "a shared input changed";
}

TEST(FaultSuite, EveryBadValueOfEveryKeyIsRefusedInProcess) {
  TempDir dir;
  const json base = {{"model", {{"path", "m"}}}, {"data", {{"train", "t.jsonl"}}}, {"train", {{"output_dir", "r"}, {"max_steps", 2}}}};
  int cases = 0;
  for (const auto& k : config_schema())
    for (const auto& value : bad_values(k)) {
      SCOPED_TRACE(k.path + " = " + json_excerpt(value));
      json config = base;
      set_dotted(config, k.path, value);
      FaultWorld::write_config(dir / "run.json", config);
      expect_error([&] { Config::load(dir / "run.json"); }, ExitCode::bad_input, k.path);
      ++cases;
    }
  EXPECT_GT(cases, 200);
}

}  // namespace
}  // namespace st::test
