// tests/trainer/config_test.cpp — strict configs: defaults, comments, --set, and 25 malformed configs that
// must each be exit 2 naming the dotted key (or file:line:column for broken JSON).
#include <gtest/gtest.h>

#include <filesystem>

#include "common/files.h"
#include "tests/test_util.h"
#include "trainer/config.h"

namespace st {
namespace {
using test::expect_error;
using test::TempDir;

const char* kMinimal = R"({
  // the smallest valid config
  "model": {"path": "model"},
  "data": {"train": ["train.jsonl"]},
  "train": {"output_dir": "run", "max_steps": 10}
})";

std::string write_config(const TempDir& dir, const std::string& text) {
  const auto path = dir / "run.json";
  write_text_file_atomic(path, text);
  return path;
}

TEST(Config, DefaultsCommentsAndRelativePaths) {
  TempDir dir;
  const auto c = Config::load(write_config(dir, kMinimal));
  EXPECT_EQ(c.integer("train.max_steps"), 10);
  EXPECT_EQ(c.integer("train.batch_size"), 8);
  EXPECT_EQ(c.integer("train.grad_accum"), 1);
  EXPECT_EQ(c.integer("checkpoint.keep_last"), 3);
  EXPECT_DOUBLE_EQ(c.number("optim.lr"), 5e-5);
  EXPECT_DOUBLE_EQ(c.number("safety.lambda"), 0.0);
  EXPECT_EQ(c.string("model.path"), dir / "model");  // relative to the config file
  EXPECT_EQ(c.paths("data.train"), std::vector<std::string>{dir / "train.jsonl"});
}

TEST(Config, SetOverridesWithTheSameChecks) {
  TempDir dir;
  const auto path = write_config(dir, kMinimal);
  const auto c = Config::load(path, {"train.max_steps=25", "optim.lr=0.001", "schedule.type=cosine",
                                     "data.group_by_length=false", "train.seed=7"});
  EXPECT_EQ(c.integer("train.max_steps"), 25);
  EXPECT_DOUBLE_EQ(c.number("optim.lr"), 0.001);
  EXPECT_EQ(c.string("schedule.type"), "cosine");
  EXPECT_FALSE(c.boolean("data.group_by_length"));
  expect_error([&] { Config::load(path, {"train.max_step=3"}); }, ExitCode::bad_input, "did you mean 'train.max_steps'");
  expect_error([&] { Config::load(path, {"train.batch_size=0"}); }, ExitCode::bad_input, "train.batch_size: expected an integer in [1, 4096]");
  expect_error([&] { Config::load(path, {"optim.lr"}); }, ExitCode::bad_input, "expected key=value");
}

TEST(Config, DifferencesSeparateLockedKeys) {
  TempDir dir;
  const auto path = write_config(dir, kMinimal);
  const auto a = Config::load(path), b = Config::load(path, {"train.max_steps=20", "data.max_seq_len=128"});
  EXPECT_EQ(config_differences(a, b, /*locked_only=*/true), std::vector<std::string>{"data.max_seq_len: 512 -> 128"});
  EXPECT_EQ(config_differences(a, b, /*locked_only=*/false).size(), 2u);
}

TEST(Config, DefaultsListEveryKeyWithHelp) {
  const auto text = describe_config_defaults();
  for (const char* k : {"train.max_steps", "train.seed", "train.batch_size", "train.grad_accum", "optim.lr",
                        "checkpoint.every_steps", "checkpoint.keep_last", "safety.lambda"})
    EXPECT_NE(text.find(k), std::string::npos) << k;
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), static_cast<long>(config_schema().size()));
}

struct BadConfig {
  const char* name;
  const char* text;
  const char* fragment;
};

// Each is the minimal config with one thing wrong.
const BadConfig kBadConfigs[] = {
    {"unknown_section", R"({"modle": {"path": "m"}, "data": {"train": "t"}, "train": {"output_dir": "r", "max_steps": 1}})", "unknown key 'modle'"},
    {"unknown_key_suggests", R"({"model": {"path": "m"}, "data": {"train": "t"}, "train": {"output_dir": "r", "max_step": 1}})", "did you mean 'train.max_steps'"},
    {"missing_model_path", R"({"data": {"train": "t"}, "train": {"output_dir": "r", "max_steps": 1}})", "missing required key 'model.path'"},
    {"missing_train_data", R"({"model": {"path": "m"}, "train": {"output_dir": "r", "max_steps": 1}})", "missing required key 'data.train'"},
    {"missing_max_steps", R"({"model": {"path": "m"}, "data": {"train": "t"}, "train": {"output_dir": "r"}})", "missing required key 'train.max_steps'"},
    {"missing_output_dir", R"({"model": {"path": "m"}, "data": {"train": "t"}, "train": {"max_steps": 1}})", "missing required key 'train.output_dir'"},
    {"max_steps_zero", R"({"model": {"path": "m"}, "data": {"train": "t"}, "train": {"output_dir": "r", "max_steps": 0}})", "train.max_steps: expected an integer in [1, 1000000000]"},
    {"max_steps_string", R"({"model": {"path": "m"}, "data": {"train": "t"}, "train": {"output_dir": "r", "max_steps": "ten"}})", "train.max_steps: expected an integer"},
    {"max_steps_fraction", R"({"model": {"path": "m"}, "data": {"train": "t"}, "train": {"output_dir": "r", "max_steps": 2.5}})", "train.max_steps: expected an integer"},
    {"negative_seed", R"({"model": {"path": "m"}, "data": {"train": "t"}, "train": {"output_dir": "r", "max_steps": 1, "seed": -1}})", "train.seed"},
    {"batch_size_zero", R"({"model": {"path": "m"}, "data": {"train": "t"}, "train": {"output_dir": "r", "max_steps": 1, "batch_size": 0}})", "train.batch_size"},
    {"grad_accum_bool", R"({"model": {"path": "m"}, "data": {"train": "t"}, "train": {"output_dir": "r", "max_steps": 1, "grad_accum": true}})", "train.grad_accum"},
    {"lr_negative", R"({"model": {"path": "m"}, "data": {"train": "t"}, "train": {"output_dir": "r", "max_steps": 1}, "optim": {"lr": -0.1}})", "optim.lr: expected a number >= 0"},
    {"beta_above_one", R"({"model": {"path": "m"}, "data": {"train": "t"}, "train": {"output_dir": "r", "max_steps": 1}, "optim": {"beta2": 1.5}})", "optim.beta2: expected a number in [0, 1)"},
    {"schedule_unknown", R"({"model": {"path": "m"}, "data": {"train": "t"}, "train": {"output_dir": "r", "max_steps": 1}, "schedule": {"type": "exp"}})", "schedule.type: expected one of linear, cosine, constant"},
    {"keep_last_zero", R"({"model": {"path": "m"}, "data": {"train": "t"}, "train": {"output_dir": "r", "max_steps": 1}, "checkpoint": {"keep_last": 0}})", "checkpoint.keep_last"},
    {"every_steps_negative", R"({"model": {"path": "m"}, "data": {"train": "t"}, "train": {"output_dir": "r", "max_steps": 1}, "checkpoint": {"every_steps": -5}})", "checkpoint.every_steps"},
    {"lambda_negative", R"({"model": {"path": "m"}, "data": {"train": "t"}, "train": {"output_dir": "r", "max_steps": 1}, "safety": {"lambda": -1}})", "safety.lambda"},
    {"format_unknown", R"({"model": {"path": "m"}, "data": {"train": "t", "format": "csv"}, "train": {"output_dir": "r", "max_steps": 1}})", "data.format: expected one of"},
    {"train_files_not_strings", R"({"model": {"path": "m"}, "data": {"train": [1, 2]}, "train": {"output_dir": "r", "max_steps": 1}})", "data.train: expected a path or a list of paths"},
    {"train_files_empty_list", R"({"model": {"path": "m"}, "data": {"train": []}, "train": {"output_dir": "r", "max_steps": 1}})", "data.train: expected at least one file"},
    {"section_not_object", R"({"model": "m", "data": {"train": "t"}, "train": {"output_dir": "r", "max_steps": 1}})", "'model' must be an object"},
    {"max_seq_len_tiny", R"({"model": {"path": "m"}, "data": {"train": "t", "max_seq_len": 4}, "train": {"output_dir": "r", "max_steps": 1}})", "data.max_seq_len: expected an integer in [8, 1048576]"},
    {"progress_unknown", R"({"model": {"path": "m"}, "data": {"train": "t"}, "train": {"output_dir": "r", "max_steps": 1}, "log": {"progress": "sometimes"}})", "log.progress"},
    {"not_an_object", R"([1, 2, 3])", "a config must be a JSON object"},
    {"broken_json", "{\n  \"model\": {\"path\": \"m\"},\n  \"data\": {\"train\": \"t\",}\n}", "run.json:3:"},
    {"unterminated_comment", "{ /* never closed \n \"model\": {} }", "not valid JSON"},
};

// Sizes that once hung, wrapped or trained to NaN (issue 14): every integer key has an upper bound, AdamW's
// betas stay below 1, and strict parsing refuses duplicate keys, deep nesting and NUL characters in paths.
TEST(ConfigErrors, EveryIntegerKeyIsBoundedAndParsingIsStrict) {
  for (const auto* schema : {&config_schema(), &classifier_config_schema()}) {
    for (const auto& k : *schema) {
      if (k.type == KeyType::Int) {
        EXPECT_TRUE(k.min && k.max && *k.max <= 9007199254740991.0) << k.path;
      }
    }
  }
  TempDir dir;
  const std::string head = R"({"model": {"path": "m"}, "data": {"train": "t"}, )";
  const std::pair<std::string, std::string> cases[] = {
      {head + R"("train": {"output_dir": "r", "max_steps": 9223372036854775807}})", "train.max_steps: expected an integer in [1, 1000000000]"},
      {head + R"("train": {"output_dir": "r", "max_steps": 18446744073709551615}})", "train.max_steps"},
      {head + R"("train": {"output_dir": "r", "max_steps": 1, "grad_accum": 1099511627776}})", "train.grad_accum: expected an integer in [1, 4096]"},
      {head + R"("train": {"output_dir": "r", "max_steps": 1}, "optim": {"beta1": 1}})", "optim.beta1: expected a number in [0, 1)"},
      {head + R"("train": {"output_dir": "r", "max_steps": 1}, "optim": {"eps": 0}})", "optim.eps"},
      {head + R"("train": {"output_dir": "r", "max_steps": 1, "max_steps": 2}})", "key \"max_steps\" appears twice"},
      {head + R"("train": {"output_dir": "r\u0000x", "max_steps": 1}})", "train.output_dir"},
      {head + R"("train": {"output_dir": "r", "max_steps": 1e400}})", "run.json: not valid JSON"},
      {head + R"("train": {"output_dir": "r", "max_steps": )" + std::string(5000, '[') + std::string(5000, ']') + "}}",
       "nested deeper than 64 levels"},
  };
  for (const auto& [text, fragment] : cases) {
    SCOPED_TRACE(fragment);
    const auto path = write_config(dir, text);
    expect_error([&] { Config::load(path); }, ExitCode::bad_input, fragment);
  }
  write_config(dir, kMinimal);
  expect_error([&] { Config::load(dir / "run.json", {"train.max_steps=" + std::string(5000, '[')}); }, ExitCode::bad_input,
               "--set train.max_steps=[[[[");
  expect_error([&] { Config::load(dir / "run.json", {"train.max_steps=" + std::string(100, '[') + std::string(100, ']')}); },
               ExitCode::bad_input, "nested deeper than 64 levels");
}

TEST(ConfigErrors, EveryMalformedConfigNamesTheKey) {
  ASSERT_GE(std::size(kBadConfigs), 20u);
  TempDir dir;
  for (const auto& c : kBadConfigs) {
    SCOPED_TRACE(c.name);
    const auto path = write_config(dir, c.text);
    expect_error([&] { Config::load(path); }, ExitCode::bad_input, c.fragment);
    expect_error([&] { Config::load(path); }, ExitCode::bad_input, "run.json");
  }
}

TEST(ConfigErrors, ThroughTheBinary) {
  TempDir dir;
  const auto path = write_config(dir, kBadConfigs[1].text);
  const auto r = test::run_safetune("config validate " + test::shell_quote(path));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("did you mean 'train.max_steps'"), std::string::npos) << r.output;
  std::filesystem::create_directories(dir / "model");  // validate checks that the inputs exist
  write_text_file_atomic(dir / "train.jsonl", "");
  const auto ok = test::run_safetune("config validate " + test::shell_quote(write_config(dir, kMinimal)) +
                                     " --set train.max_steps=3");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  const auto defaults = test::run_safetune("config defaults");
  EXPECT_EQ(defaults.exit_code, 0);
  EXPECT_NE(defaults.output.find("checkpoint.keep_last"), std::string::npos);
}

// ---- the typed view, suggestions and blame (issue 13) ----

TEST(ConfigTyped, EveryKeyIsBoundAndReadsBackAsTyped) {
  TempDir dir;
  const auto c = Config::load(write_config(dir, kMinimal), {"schedule.type=cosine", "safety.estimator=sampled",
                                                            "data.template=chatml", "eval.best_metric=val_ce",
                                                            "gate.action=stop", "safety.mix.budget=7"});
  const RunConfig r = c.run_config();
  EXPECT_EQ(r.train.max_steps, 10);
  EXPECT_EQ(r.train.batch_size, c.integer("train.batch_size"));
  EXPECT_EQ(r.train.max_consecutive_skips, 10);
  EXPECT_DOUBLE_EQ(r.optim.lr, 5e-5);
  EXPECT_EQ(r.schedule.type, ScheduleType::Cosine);
  EXPECT_EQ(r.safety.estimator, EstimatorKind::Sampled);
  EXPECT_EQ(r.eval.best_metric, BestMetric::ValCe);
  EXPECT_EQ(r.gate.action, GateAction::Stop);
  EXPECT_EQ(r.data.options.chat_template, "chatml");
  EXPECT_EQ(r.data.options.max_seq_len, 512);
  EXPECT_EQ(r.safety.mix.budget, 7);
  EXPECT_EQ(r.model.path, dir / "model");
  EXPECT_EQ(r.data.train, std::vector<std::string>{dir / "train.jsonl"});
  EXPECT_EQ(r.source, dir / "run.json");
  // Every choice key is an enum or a data-layer string, and every name round-trips.
  for (const auto& k : config_schema()) {
    if (k.type == KeyType::Choice) {
      EXPECT_FALSE(k.choices.empty()) << k.path;
    }
  }
  EXPECT_STREQ(enum_name(BestMetric::BenignOverRefusalRate), "benign_over_refusal_rate");
  expect_error([&] { Config::load(write_config(dir, kMinimal)).classifier_config(); }, ExitCode::failure, "is not bound to");
}

TEST(ConfigTyped, SuggestsTheKeyBehindAShortNameAndBlamesSetForItsValues) {
  TempDir dir;
  const auto path = write_config(dir, kMinimal);
  expect_error([&] { Config::load(path, {"lr=1e-4"}); }, ExitCode::bad_input, "did you mean 'optim.lr'?");
  expect_error([&] { Config::load(path, {"max_steps=3"}); }, ExitCode::bad_input, "did you mean 'train.max_steps'?");
  expect_error([&] { Config::load(path, {"train.batch_size=0"}); }, ExitCode::bad_input, "--set train.batch_size=0: train.batch_size");
  expect_error([&] { Config::load(path, {"schedule.type=exp"}); }, ExitCode::bad_input, "--set schedule.type=exp: schedule.type");
}

TEST(ConfigTyped, ValidateNamesEveryMissingInput) {
  TempDir dir;
  const auto path = write_config(dir, kMinimal);
  auto missing = missing_inputs(Config::load(path));
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_NE(missing[0].find("model.path: " + (dir / "model") + ": no such folder"), std::string::npos) << missing[0];
  EXPECT_NE(missing[1].find("data.train: " + (dir / "train.jsonl") + ": no such file"), std::string::npos) << missing[1];
  write_text_file_atomic(dir / "model", "a file where a folder belongs");
  std::filesystem::create_directories(dir / "train.jsonl");
  missing = missing_inputs(Config::load(path));
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_NE(missing[0].find("not a folder"), std::string::npos) << missing[0];
  EXPECT_NE(missing[1].find("not a regular file"), std::string::npos) << missing[1];
  const auto r = test::run_safetune("config validate " + test::shell_quote(path));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("2 input path(s) cannot be read"), std::string::npos) << r.output;
}

TEST(ConfigReadme, TheKeyListIsTheSchema) {
  const std::string readme = read_text_file(std::string(SAFETUNE_FIXTURES) + "/../../README.md");
  const std::string begin = "<!-- config-keys:begin -->\n", end = "<!-- config-keys:end -->";
  const auto i = readme.find(begin), j = readme.find(end);
  ASSERT_TRUE(i != std::string::npos && j != std::string::npos && i < j) << "README.md lacks the config-keys markers";
  const std::string listed = readme.substr(i + begin.size(), j - i - begin.size());
  EXPECT_EQ(listed, describe_config_markdown()) << "README.md's key list differs from the schema: run scripts/readme_config_keys";
}

}  // namespace
}  // namespace st
