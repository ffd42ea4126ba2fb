// tests/models/lora_adapter_test.cpp — PEFT LoRA adapters against peft itself: an adapter whose B is not
// zero, merged by safetune, gives PEFT's (unmerged) logits and merge_and_unload's weights within 1e-5;
// `safetune merge` writes that folder; bad adapters are exit 2 naming the key or tensor. Fixtures:
// scripts/make_lora_fixtures (all-linear r=4 on a GQA model; rsLoRA r=8 on q/v of a model with biases).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>

#include "common/files.h"
#include "common/json_file.h"
#include "models/lora_adapter.h"
#include "models/model_folder.h"
#include "models/safetensors.h"
#include "tests/test_util.h"

namespace st {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using test::fixture;

struct Case {
  const char* adapter;
  const char* base;
  size_t modules;
};
const Case kCases[] = {{"all_linear_gqa", "gqa_default_rope", 14}, {"qv_rslora_bias", "mha_tied_linear_rope", 4}};

class LoraAdapterGolden : public ::testing::TestWithParam<Case> {};

TEST_P(LoraAdapterGolden, MergedLogitsAndWeightsEqualPeft) {
  const Case c = GetParam();
  auto model = load_llama(fixture(std::string("golden/") + c.base));
  const auto info = merge_lora_adapter(model, fixture(std::string("lora/") + c.adapter));
  EXPECT_EQ(info.modules.size(), c.modules);
  const auto ref = TensorStore::open_file(fixture(std::string("lora/") + c.adapter + ".reference.safetensors"));
  torch::NoGradGuard no_grad;
  const auto logits = model(ref.tensor("input_ids"));  // [B, T, V]
  const double vs_peft = (logits - ref.tensor("logits")).abs().max().item<double>();
  const double vs_merged = (logits - ref.tensor("merged_logits")).abs().max().item<double>();
  double weights = 0;
  for (const auto& item : model->named_parameters())
    weights = std::max(weights, (item.value() - ref.tensor("merged." + item.key())).abs().max().item<double>());
  std::printf("[lora %s] max |logit diff| vs PEFT %.3e, vs merge_and_unload %.3e, max |weight diff| vs merge_and_unload %.3e "
              "(tol 1e-5)\n", c.adapter, vs_peft, vs_merged, weights);
  EXPECT_LE(vs_peft, 1e-5);
  EXPECT_LE(vs_merged, 1e-5);
  EXPECT_LE(weights, 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Peft, LoraAdapterGolden, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.adapter); });

// `safetune merge` writes a folder whose logits are PEFT's; generate takes --adapter.
TEST(LoraAdapterCli, MergeWritesTheMergedFolder) {
  test::TempDir dir;
  const auto r = test::run_safetune("merge --base " + test::shell_quote(fixture("golden/gqa_default_rope")) + " --adapter " +
                                    test::shell_quote(fixture("lora/all_linear_gqa")) + " --out " + test::shell_quote(dir / "m"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto merged = load_llama(dir / "m");
  const auto ref = TensorStore::open_file(fixture("lora/all_linear_gqa.reference.safetensors"));
  torch::NoGradGuard no_grad;
  EXPECT_LE((merged(ref.tensor("input_ids")) - ref.tensor("logits")).abs().max().item<double>(), 1e-5);
  const auto g = test::run_safetune("generate --model " + test::shell_quote(fixture("golden/gqa_default_rope")) + " --adapter " +
                                    test::shell_quote(fixture("lora/all_linear_gqa")) + " --prompt hi --max-new-tokens 2");
  EXPECT_EQ(g.exit_code, 0) << g.output;
  EXPECT_NE(g.output.find("adapter: "), std::string::npos) << g.output;
}

// Each bad adapter is exit 2 naming the file and the key or tensor.
TEST(LoraAdapterErrors, BadAdaptersAreRefusedByName) {
  const std::string good = fixture("lora/qv_rslora_bias");
  const json config = read_json_file(good + "/adapter_config.json");
  auto with_config = [&](const std::function<void(json&)>& edit, const std::string& fragment) {
    test::TempDir dir;
    json c = config;
    edit(c);
    write_text_file_atomic(dir / "adapter_config.json", c.dump());
    fs::copy_file(good + "/adapter_model.safetensors", dir / "adapter_model.safetensors");
    auto model = load_llama(fixture("golden/mha_tied_linear_rope"));
    test::expect_error([&] { merge_lora_adapter(model, dir.str()); }, ExitCode::bad_input, fragment);
  };
  with_config([](json& c) { c["r"] = 0; }, "'r' must be a number > 0");
  with_config([](json& c) { c["r"] = 4; }, "with r = 4");  // the tensors have r = 8
  with_config([](json& c) { c["lora_alpha"] = -1; }, "'lora_alpha' must be a number > 0");
  with_config([](json& c) { c["use_dora"] = true; }, "'use_dora' is true, which safetune does not apply");
  with_config([](json& c) { c["modules_to_save"] = json::array({"lm_head"}); }, "'modules_to_save'");
  with_config([](json& c) { c["peft_type"] = "IA3"; }, "peft_type must be \"LORA\"");
  with_config([](json& c) { c["layers_to_transform"] = "all"; }, "'layers_to_transform' must be null, a layer index");
  with_config([](json& c) { c["layers_to_transform"] = 7; }, "which layers_to_transform [7] does not list");

  auto model = load_llama(fixture("golden/mha_tied_linear_rope"));
  test::TempDir dir;
  write_text_file_atomic(dir / "adapter_config.json", config.dump());
  const auto a = torch::zeros({8, 32}), b = torch::zeros({32, 8});
  save_safetensors(dir / "adapter_model.safetensors", {{"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", a}});
  test::expect_error([&] { merge_lora_adapter(model, dir.str()); }, ExitCode::bad_input, "has only its lora_A weight");
  save_safetensors(dir / "adapter_model.safetensors", {{"base_model.model.model.embed_tokens.lora_A.weight", a},
                                                        {"base_model.model.model.embed_tokens.lora_B.weight", b}});
  test::expect_error([&] { merge_lora_adapter(model, dir.str()); }, ExitCode::bad_input, "not a projection of this model");
  test::expect_error([&] { merge_lora_adapter(model, fixture("lora/absent")); }, ExitCode::bad_input, "adapter folder not found");
}

}  // namespace
}  // namespace st
