// tests/models/model_family_test.cpp — config.json dispatch on model_type through the family registry:
// llama, qwen2 and mistral; unknown families and unimplemented flags are refused by name; each family's bias
// flags and window rules, read and written back.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "models/llama_config.h"
#include "tests/test_util.h"

namespace st {
namespace {
using test::expect_error;
using test::fixture;

nlohmann::json golden_config() {
  return nlohmann::json::parse(read_text_file(fixture("golden/gqa_default_rope/config.json")));
}

TEST(ModelFamily, LlamaQwen2AndMistralAreRegistered) {
  EXPECT_EQ(registered_model_types(), (std::vector<std::string>{"llama", "qwen2", "mistral"}));
  EXPECT_EQ(LlamaConfig::from_json(golden_config(), "c.json").model_type, "llama");
  auto untyped = golden_config();
  untyped.erase("model_type");  // safetune's own architecture files may leave it out: Llama
  EXPECT_EQ(LlamaConfig::from_json(untyped, "c.json").model_type, "llama");
}

TEST(ModelFamily, AnUnknownModelTypeIsRefusedWithTheRegisteredFamilies) {
  auto j = golden_config();
  j["model_type"] = "qwen3";
  expect_error([&] { LlamaConfig::from_json(j, "dir/config.json"); }, ExitCode::bad_input,
               "dir/config.json: model_type 'qwen3' is not supported (registered families: llama, qwen2, mistral)");
}

TEST(ModelFamily, ASlidingWindowIsRefusedByName) {
  auto j = golden_config();
  j["sliding_window"] = 4096;
  expect_error([&] { LlamaConfig::from_json(j, "dir/config.json"); }, ExitCode::bad_input,
               "dir/config.json: 'sliding_window' = 4096 is not supported");
  j["sliding_window"] = nullptr;  // transformers writes null for "no window"
  EXPECT_FALSE(LlamaConfig::from_json(j, "dir/config.json").sliding_window.has_value());
  j["sliding_window"] = "wide";
  expect_error([&] { LlamaConfig::from_json(j, "dir/config.json"); }, ExitCode::bad_input,
               "'sliding_window' must be an integer in [1, 16777216]");
}

TEST(ModelFamily, LlamaAttentionBiasSetsBothBiasFlagsAndIsWrittenBack) {
  for (const bool bias : {false, true}) {
    auto j = golden_config();
    j["attention_bias"] = bias;
    const auto c = LlamaConfig::from_json(j, "c.json");
    EXPECT_EQ(c.qkv_bias, bias);
    EXPECT_EQ(c.o_bias, bias);
    const auto written = c.to_json();
    EXPECT_EQ(written["attention_bias"], bias);
    EXPECT_EQ(written["model_type"], "llama");
    EXPECT_EQ(written["architectures"], nlohmann::json::array({"LlamaForCausalLM"}));
  }
  // Split flags cannot be written as llama, which has one attention_bias: a bug, not input (exit 1).
  auto c = LlamaConfig::from_json(golden_config(), "c.json");
  c.qkv_bias = true;
  expect_error([&] { c.to_json(); }, ExitCode::failure, "one attention_bias");
}

// Qwen2: q/k/v biases, none on o_proj; its window counts only with use_sliding_window. Written back as qwen2.
TEST(ModelFamily, Qwen2HasQkvBiasesOnlyAndItsWindowOnlyWhenUsed) {
  auto j = golden_config();
  j["model_type"] = "qwen2";
  j["architectures"] = {"Qwen2ForCausalLM"};
  j.erase("attention_bias");
  j.erase("mlp_bias");
  j["sliding_window"] = 4096;
  j["use_sliding_window"] = false;
  const auto c = LlamaConfig::from_json(j, "c.json");
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.o_bias);
  EXPECT_FALSE(c.mlp_bias);
  EXPECT_FALSE(c.sliding_window.has_value());
  const auto written = c.to_json();
  EXPECT_EQ(written["model_type"], "qwen2");
  EXPECT_EQ(written["architectures"], nlohmann::json::array({"Qwen2ForCausalLM"}));
  EXPECT_EQ(written["use_sliding_window"], false);
  EXPECT_FALSE(written.contains("attention_bias"));
  EXPECT_EQ(LlamaConfig::from_json(written, "again.json").qkv_bias, true);
  j["use_sliding_window"] = true;
  expect_error([&] { LlamaConfig::from_json(j, "q/config.json"); }, ExitCode::bad_input, "'sliding_window' = 4096 is not supported");
  j["use_sliding_window"] = false;
  j["architectures"] = {"LlamaForCausalLM"};
  expect_error([&] { LlamaConfig::from_json(j, "q/config.json"); }, ExitCode::bad_input, "safetune implements Qwen2ForCausalLM");
}

// Mistral: no biases; sliding_window null (v0.2 and later) loads, a set window (v0.1's 4096) is refused.
TEST(ModelFamily, MistralLoadsWithoutAWindowAndRefusesOne) {
  auto j = golden_config();
  j["model_type"] = "mistral";
  j["architectures"] = {"MistralForCausalLM"};
  j.erase("attention_bias");
  j["sliding_window"] = nullptr;
  const auto c = LlamaConfig::from_json(j, "c.json");
  EXPECT_FALSE(c.qkv_bias || c.o_bias || c.mlp_bias);
  EXPECT_EQ(c.to_json()["model_type"], "mistral");
  EXPECT_TRUE(c.to_json()["sliding_window"].is_null());
  j["sliding_window"] = 4096;
  expect_error([&] { LlamaConfig::from_json(j, "m/config.json"); }, ExitCode::bad_input, "'sliding_window' = 4096 is not supported");
}

}  // namespace
}  // namespace st
