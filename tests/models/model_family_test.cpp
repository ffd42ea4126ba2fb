// tests/models/model_family_test.cpp — config.json dispatch on model_type through the family registry:
// unknown families and unimplemented flags are refused by name; llama's attention_bias sets both bias flags.
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

TEST(ModelFamily, OnlyLlamaIsRegistered) {
  EXPECT_EQ(registered_model_types(), std::vector<std::string>{"llama"});
  EXPECT_EQ(LlamaConfig::from_json(golden_config(), "c.json").model_type, "llama");
  auto untyped = golden_config();
  untyped.erase("model_type");  // safetune's own architecture files may leave it out: Llama
  EXPECT_EQ(LlamaConfig::from_json(untyped, "c.json").model_type, "llama");
}

TEST(ModelFamily, AnUnknownModelTypeIsRefusedWithTheRegisteredFamilies) {
  auto j = golden_config();
  j["model_type"] = "qwen3";
  expect_error([&] { LlamaConfig::from_json(j, "dir/config.json"); }, ExitCode::bad_input,
               "dir/config.json: model_type 'qwen3' is not supported (registered families: llama)");
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

}  // namespace
}  // namespace st
