// tests/cli/cli_test.cpp — the safetune binary as users meet it: inspect on good and malformed inputs
// (exit code 2 and exactly one line naming the problem, never a crash), init-model and convert.
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
  expect_rejected("generate --model " + shell_quote(model_dir) + " --prompt a --top-p 2", {"--top-p must be a number in"});
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

}  // namespace
}  // namespace st
