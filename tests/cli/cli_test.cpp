// tests/cli/cli_test.cpp — the safetune binary as users meet it: inspect on good and malformed inputs
// (exit code 2 and exactly one line naming the problem, never a crash), init-model and convert, every
// command's --help, and a sweep over two grids.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <sstream>

#include "common/files.h"
#include "data/examples.h"
#include "data/tokenizer.h"
#include "models/generation.h"
#include "models/model_folder.h"
#include "tests/test_util.h"
#include "cli/command_line.h"
#include "cli/commands.h"

namespace st {
namespace {
namespace fs = std::filesystem;
using test::fixture;
using test::run_safetune;
using test::shell_quote;
using test::TempDir;

// A user-facing rejection: exit 2, one line, "safetune: error: ...", containing each fragment.
void expect_rejected(const std::string& args, const std::vector<std::string>& fragments) {
  const auto r = run_safetune(args);
  EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << "expected one line:\n" << r.output;
  EXPECT_EQ(r.output.rfind("safetune: error: ", 0), 0u) << r.output;
  for (const auto& f : fragments) EXPECT_NE(r.output.find(f), std::string::npos) << "missing '" << f << "' in " << r.output;
}

TEST(InspectCli, MalformedSafetensorsCorpusGivesExitTwoAndOneLine) {
  const auto expected = nlohmann::json::parse(read_text_file(fixture("bad_safetensors/expected.json")));
  ASSERT_GE(expected.size(), 15u);
  for (const auto& [name, fragment] : expected.items()) {
    SCOPED_TRACE(name);
    const auto path = fixture("bad_safetensors/" + name + ".safetensors");
    expect_rejected("inspect " + shell_quote(path), {path, fragment.get<std::string>()});
  }
}

TEST(InspectCli, GoldenFolderAsJson) {
  const auto r = run_safetune("inspect --json " + shell_quote(fixture("golden/gqa_llama3_rope")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_EQ(j["architecture"], "LlamaForCausalLM");
  EXPECT_EQ(j["config"]["num_key_value_heads"], 1);
  EXPECT_EQ(j["config"]["rope"]["type"], "llama3");
  EXPECT_EQ(j["tokenizer"]["pieces"], 256);
  int64_t total = 0;
  for (const auto& t : j["tensors"]) {
    int64_t n = 1;
    for (auto d : t["shape"]) n *= d.get<int64_t>();
    total += n;
  }
  EXPECT_EQ(j["parameters"].get<int64_t>(), total);
  EXPECT_EQ(j["dtypes"]["F32"].get<size_t>(), j["tensors"].size());
}

TEST(InspectCli, HumanOutputNamesArchitectureParametersAndTensors) {
  const auto r = run_safetune("inspect " + shell_quote(fixture("golden/mha_tied_linear_rope")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* want : {"LlamaForCausalLM", "tied", "linear", "parameters", "model.layers.1.self_attn.q_proj.bias"})
    EXPECT_NE(r.output.find(want), std::string::npos) << want << "\n" << r.output;
}

// Broken model folders, each built from a good one.
class BrokenFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const auto& entry : fs::directory_iterator(fixture("golden/gqa_default_rope")))
      fs::copy_file(entry.path(), fs::path(dir.str()) / entry.path().filename());
  }
  void edit_config(const std::function<void(nlohmann::json&)>& edit) {
    auto j = nlohmann::json::parse(read_text_file(dir / "config.json"));
    edit(j);
    write_text_file_atomic(dir / "config.json", j.dump());
  }
  void rewrite_weights(const std::function<void(NamedTensors&)>& edit) {
    auto store = TensorStore::open_folder(dir.str());
    NamedTensors tensors;
    for (const auto& [name, _] : store.entries()) tensors.push_back({name, store.tensor(name).clone()});
    edit(tensors);
    save_safetensors(dir / "model.safetensors", tensors);
  }
  std::string quoted() const { return shell_quote(dir.str()); }
  TempDir dir;
};

TEST_F(BrokenFolder, MissingConfig) {
  fs::remove(dir / "config.json");
  expect_rejected("inspect " + quoted(), {"config.json", "no such file"});
}

TEST_F(BrokenFolder, ConfigNotJson) {
  write_text_file_atomic(dir / "config.json", "{\"vocab_size\": 256,");
  expect_rejected("inspect " + quoted(), {"config.json", "not valid JSON"});
}

TEST_F(BrokenFolder, UnsupportedArchitecture) {
  edit_config([](auto& j) { j["architectures"] = {"MixtralForCausalLM"}; });
  expect_rejected("inspect " + quoted(), {"config.json", "MixtralForCausalLM", "not supported"});
}

TEST_F(BrokenFolder, UnsupportedRope) {
  edit_config([](auto& j) { j["rope_parameters"] = {{"rope_type", "dynamic"}, {"factor", 2.0}}; });
  expect_rejected("inspect " + quoted(), {"config.json", "rope_parameters.rope_type", "dynamic"});
}

TEST_F(BrokenFolder, NoWeights) {
  fs::remove(dir / "model.safetensors");
  expect_rejected("inspect " + quoted(), {"model.safetensors", "model.safetensors.index.json"});
}

TEST_F(BrokenFolder, MissingTensor) {
  rewrite_weights([](auto& t) { t.erase(t.begin()); });
  expect_rejected("inspect " + quoted(), {"missing tensor(s): lm_head.weight"});
}

TEST_F(BrokenFolder, UnusedTensor) {
  rewrite_weights([](auto& t) { t.push_back({"model.layers.0.self_attn.extra", torch::zeros({2})}); });
  expect_rejected("inspect " + quoted(), {"unused tensor(s): model.layers.0.self_attn.extra"});
}

TEST_F(BrokenFolder, ShapeMismatchAgainstConfig) {
  edit_config([](auto& j) { j["intermediate_size"] = 96; });
  expect_rejected("inspect " + quoted(), {"shape mismatch", "model.layers.0.mlp.up_proj.weight (file 64x32, model 96x32)"});
}

TEST_F(BrokenFolder, IntegerWeights) {
  rewrite_weights([](auto& t) { t[0].second = t[0].second.to(torch::kInt32); });
  expect_rejected("inspect " + quoted(), {"lm_head.weight", "dtype I32"});
}

TEST_F(BrokenFolder, CorruptTokenizer) {
  write_text_file_atomic(dir / "tokenizer.model", "not a model");
  expect_rejected("inspect " + quoted(), {"tokenizer.model", "not a sentencepiece model"});
}

TEST_F(BrokenFolder, TruncatedWeightsFile) {
  const auto path = dir / "model.safetensors";
  fs::resize_file(path, fs::file_size(path) - 100);
  expect_rejected("inspect " + quoted(), {"model.safetensors", "past the data section"});
}

TEST(Cli, UsageErrorsSuggestTheNearestName) {
  expect_rejected("inspekt x", {"unknown command 'inspekt'", "did you mean 'inspect'"});
  expect_rejected("inspect --jsn x", {"unknown option --jsn", "did you mean --json"});
  expect_rejected("inspect", {"expected 1 argument(s), got 0"});
  expect_rejected("inspect /nonexistent/folder", {"/nonexistent/folder", "no such file or folder"});
  expect_rejected("convert a b --max-shard-size lots", {"--max-shard-size", "not a byte size"});
}

TEST(Cli, ByteSizes) {
  EXPECT_EQ(parse_byte_size("2GB", "x"), 2000000000u);
  EXPECT_EQ(parse_byte_size("1.5MiB", "x"), 1572864u);
  EXPECT_EQ(parse_byte_size("4096", "x"), 4096u);
  EXPECT_EQ(nearest("train.max_step", {"train.max_steps", "train.seed"}), "train.max_steps");
  EXPECT_EQ(nearest("zzzzzz", {"train.max_steps"}), "");
}

TEST(GenerateCli, PromptAndFileGiveJsonlThatMatchesTheLibrary) {
  const auto model_dir = fixture("golden/gqa_default_rope");
  auto r = run_safetune("generate --model " + shell_quote(model_dir) + " --prompt 'What is 2 plus 3?' --max-new-tokens 6");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto row = nlohmann::json::parse(r.output);
  EXPECT_EQ(row["prompt"], "What is 2 plus 3?");
  EXPECT_LE(row["tokens"].get<int>(), 6);
  // The same prompt through the library: template, greedy decoding, decode.
  const auto tokenizer = open_tokenizer(model_dir);
  const Tokenizer& tok = *tokenizer;
  auto model = load_llama(model_dir);
  GenerationOptions o;
  o.max_new_tokens = 6;
  o.stop_ids = {tok.eos_id()};
  const auto ids = apply_chat_template({{"user", "What is 2 plus 3?"}}, tok, {}).input_ids;
  EXPECT_EQ(row["response"].get<std::string>(), tok.decode(generate(model, {ids}, o, tok.pad_id())[0]));

  TempDir dir;
  write_text_file_atomic(dir / "prompts.jsonl", "{\"prompt\": \"Hi\"}\n\n{\"prompt\": \"Reverse the word: tea\"}\n{\"prompt\": \"Bye\"}\n");
  r = run_safetune("generate --model " + shell_quote(model_dir) + " --input " + shell_quote(dir / "prompts.jsonl") +
                   " --max-new-tokens 4 --batch-size 2 --temperature 0.8 --top-p 0.9 --seed 3");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<nlohmann::json> rows;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1]["line"], 3);  // provenance skips the blank line
  const auto again = run_safetune("generate --model " + shell_quote(model_dir) + " --input " + shell_quote(dir / "prompts.jsonl") +
                                  " --max-new-tokens 4 --batch-size 2 --temperature 0.8 --top-p 0.9 --seed 3");
  EXPECT_EQ(again.output, r.output);  // sampling is reproducible from the seed

  write_text_file_atomic(dir / "bad.jsonl", "{\"prompt\": \"ok\"}\n{\"question\": \"no\"}\n");
  expect_rejected("generate --model " + shell_quote(model_dir) + " --input " + shell_quote(dir / "bad.jsonl"),
                  {"bad.jsonl:2:", "\"prompt\""});
  expect_rejected("generate --model " + shell_quote(model_dir) + " --prompt a --input " + shell_quote(dir / "bad.jsonl"),
                  {"exactly one of --prompt and --input"});
  expect_rejected("generate --model " + shell_quote(model_dir) + " --prompt a --top-p 2", {"--top-p must be in"});
}

TEST(ModelToolsCli, InitModelThenConvertToShardedBf16) {
  TempDir dir;
  const auto init = dir / "init", bf16 = dir / "bf16";
  auto r = run_safetune("init-model --config " + shell_quote(std::string(SAFETUNE_FIXTURES) + "/../../configs/tiny_llama.json") +
                        " --tokenizer " + shell_quote(fixture("tokenizer/tokenizer.model")) + " --seed 4 --out " + shell_quote(init));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  expect_rejected("init-model --config " + shell_quote(fixture("golden/gqa_default_rope/config.json")) + " --out " +
                      shell_quote(init),
                  {"not empty", "--overwrite"});
  r = run_safetune("convert " + shell_quote(init) + " " + shell_quote(bf16) + " --dtype bfloat16 --max-shard-size 100KB");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(fs::path(bf16) / "model.safetensors.index.json"));
  EXPECT_TRUE(fs::exists(fs::path(bf16) / "tokenizer.model"));
  auto a = load_llama(init), b = load_llama(bf16);
  for (size_t i = 0; i < a->parameters().size(); ++i)
    EXPECT_TRUE(torch::equal(a->parameters()[i].to(torch::kBFloat16).to(torch::kFloat32), b->parameters()[i]));
  EXPECT_EQ(b->config().torch_dtype, "bfloat16");
}

// ---- help: every command documents every option it declares ----

// An option's meaning when it is absent: a default, or a help text that says what happens without it.
bool documents_absence(const OptionSpec& o) {
  return o.is_flag() || o.required || o.repeatable || !o.default_value.empty() ||
         o.help.find("without it") != std::string::npos;
}

TEST(CliHelp, EveryCommandDeclaresHelpDefaultsAndExamples) {
  ASSERT_EQ(commands().size(), 15u);
  for (const auto& c : commands()) {
    SCOPED_TRACE(c.spec.name);
    EXPECT_FALSE(c.spec.summary.empty());
    ASSERT_FALSE(c.spec.examples.empty());
    for (const auto& e : c.spec.examples) EXPECT_NE(e.find("safetune " + c.spec.name + " "), std::string::npos) << e;
    for (const auto& o : c.spec.options) {
      EXPECT_GE(o.help.size(), 10u) << "--" << o.name << " needs a help text";
      EXPECT_TRUE(documents_absence(o)) << "--" << o.name << ": declare a default or say what happens without it";
    }
  }
}

// Runs of spaces and line breaks as one space: help texts are wrapped to the terminal's width.
std::string squeeze(const std::string& text) {
  std::istringstream words(text);
  std::string out;
  for (std::string word; words >> word;) out += (out.empty() ? "" : " ") + word;
  return out;
}

TEST(CliHelp, HelpFlagShortFlagAndHelpCommandPrintTheSameTextToStdout) {
  for (const auto& c : commands()) {
    SCOPED_TRACE(c.spec.name);
    const std::string expected = help_text(c.spec), flat = squeeze(expected);
    for (const auto& args : {c.spec.name + " --help", c.spec.name + " -h", "help " + c.spec.name}) {
      // stderr is discarded: the help must come on stdout; the shell's status is safetune's.
      const auto r = run_safetune(args + " 2>/dev/null; exit $?");
      EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.output;
      EXPECT_EQ(r.output, expected) << args;
    }
    EXPECT_NE(expected.find("usage: safetune " + c.spec.usage), std::string::npos) << expected;
    for (const auto& o : c.spec.options) {
      EXPECT_NE(expected.find("--" + o.name + (o.is_flag() ? "" : " " + o.value_name)), std::string::npos) << o.name;
      EXPECT_NE(flat.find(squeeze(o.help)), std::string::npos) << o.name;
      if (!o.default_value.empty()) {
        EXPECT_NE(flat.find("default: " + o.default_value), std::string::npos) << o.name;
      }
    }
    for (const auto& e : c.spec.examples) EXPECT_NE(expected.find(e), std::string::npos) << e;
  }
}

TEST(CliHelp, HelpWinsOverMissingArgumentsAndFollowsValues) {
  // convert needs two arguments and init-model two options: --help is answered before either is checked.
  EXPECT_EQ(run_safetune("convert --help").exit_code, 0);
  EXPECT_EQ(run_safetune("init-model --seed 3 -h").exit_code, 0);
  // A value that looks like --help is a value, not a request for help.
  expect_rejected("generate --prompt --help", {"generate: --model is required"});
}

TEST(CliHelp, TopLevelHelpListsEveryCommandFromItsDeclaration) {
  const auto r = run_safetune("--help");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(run_safetune("help").output, r.output);
  for (const auto& c : commands()) EXPECT_NE(r.output.find(c.spec.summary), std::string::npos) << c.spec.name;
}

TEST(CliHelp, UnknownNamesSuggestTheNearest) {
  expect_rejected("help nosuchcommand", {"unknown command 'nosuchcommand' (commands: train, config, report,"});
  expect_rejected("help inspekt", {"unknown command 'inspekt'", "did you mean 'inspect'"});
  expect_rejected("help train sweep", {"help: expected one command name"});
  expect_rejected("train --hlep", {"train: unknown option --hlep", "did you mean --help"});
}

TEST(Cli, ConfigGivenAsAnArgumentIsNamed) {
  int with_config = 0;
  for (const auto& c : commands()) {
    if (c.spec.find("config") == nullptr) continue;
    ++with_config;
    expect_rejected(c.spec.name + " cfg.json", {c.spec.name + ": pass the config with --config cfg.json"});
  }
  EXPECT_EQ(with_config, 6);  // train, eval, judge, sweep, train-classifier, init-model
}

TEST(Cli, MissingRequiredOptionsAreNamed) {
  expect_rejected("train", {"train: --config is required"});
  expect_rejected("sweep --config x.json", {"sweep: --grid is required"});
  expect_rejected("eval", {"eval: --model and --config are required"});
  expect_rejected("report run", {"report: --out is required"});
}

// ---- sweep: several --grid flags sweep their product ----

// A run of one step of batch 2 on the golden model: a sweep of four runs takes seconds.
std::string write_one_step_config(const TempDir& dir) {
  const auto path = dir / "run.json";
  write_text_file_atomic(path, fmt::format(R"({{
  "model": {{"path": "{}", "device": "cpu"}},
  "data": {{"train": "{}", "max_seq_len": 64}},
  "train": {{"output_dir": "{}", "max_steps": 1, "batch_size": 2, "seed": 3}},
  "log": {{"every_steps": 1, "progress": "never"}}
}})", fixture("golden/gqa_default_rope"), fixture("train/train.jsonl"), dir / "runs/sweep"));
  return path;
}

TEST(SweepCli, TwoGridsSweepTheirProductWithOneColumnPerKey) {
  TempDir dir;
  const auto config = shell_quote(write_one_step_config(dir));
  const auto r = run_safetune("sweep --config " + config + " --grid train.seed=1,2 --grid optim.lr=0.001,0.002");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto summary = nlohmann::json::parse(read_text_file(dir / "runs/sweep.sweep.json"));
  EXPECT_EQ(summary["keys"], nlohmann::json({"train.seed", "optim.lr"}));
  EXPECT_FALSE(summary.contains("key"));
  ASSERT_EQ(summary["runs"].size(), 4u);
  size_t i = 0;
  for (const char* seed : {"1", "2"})
    for (const char* lr : {"0.001", "0.002"}) {  // the first --grid varies slowest
      const auto& run = summary["runs"][i++];
      const std::string folder = dir / fmt::format("runs/sweep.train.seed={},optim.lr={}", seed, lr);
      EXPECT_EQ(run["run"], folder);
      EXPECT_EQ(run["train.seed"], seed);
      EXPECT_EQ(run["optim.lr"], lr);
      EXPECT_EQ(run["exit_code"], 0);
      EXPECT_TRUE(run["final_ce"].is_number());
      const auto resolved = nlohmann::json::parse(read_text_file(folder + "/config.json"));
      EXPECT_EQ(resolved["train"]["seed"], std::stoi(seed));
      EXPECT_EQ(resolved["optim"]["lr"], std::stod(lr));
      EXPECT_NE(r.output.find("sweep: train.seed = " + std::string(seed) + ", optim.lr = " + lr + " -> " + folder),
                std::string::npos) << r.output;
    }
  EXPECT_NE(r.output.find("train.seed       optim.lr           final CE"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("refusal  toxicity  over-refusal mean P(toxic)"), std::string::npos) << r.output;
  EXPECT_TRUE(summary["runs"][0].contains("benign_over_refusal_rate")) << "null where the run has no benign prompts";
}

TEST(SweepCli, OneGridKeepsItsFolderNamesAndRepeatedKeysAreRefused) {
  TempDir dir;
  const auto config = shell_quote(write_one_step_config(dir));
  const auto r = run_safetune("sweep --config " + config + " --grid train.seed=5");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir / "runs/sweep.train.seed=5/final/model.safetensors"));
  const auto summary = nlohmann::json::parse(read_text_file(dir / "runs/sweep.sweep.json"));
  EXPECT_EQ(summary["key"], "train.seed");
  EXPECT_EQ(summary["runs"][0]["value"], "5");
  EXPECT_NE(r.output.find("train.seed         final CE"), std::string::npos) << r.output;
  expect_rejected("sweep --config " + config + " --grid train.seed=1,2 --grid optim.lr=0.1 --grid train.seed=3",
                  {"--grid train.seed is given twice"});
}

}  // namespace
}  // namespace st
