// tests/models/smollm2_test.cpp — a real pretrained instruct model, SmolLM2-135M-Instruct, against
// transformers: the chat template read from its folder gives transformers' prompt ids, the next-token logits
// agree within 2e-3 (float32 on both sides; the 20 largest compared), and batched greedy generation gives
// transformers' tokens for 12 prompts. Skips when the model is absent (scripts/get_smollm2 fetches it, and
// scripts/test runs that); the reference is tests/fixtures/smollm2/reference.json (scripts/check_smollm2).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>

#include "common/json_file.h"
#include "data/examples.h"
#include "data/tokenizer.h"
#include "models/generation.h"
#include "models/model_folder.h"
#include "tests/test_util.h"

namespace st {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr double kLogitTolerance = 2e-3;

class SmolLM2 : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(fs::path(test::smollm2_folder()) / "model.safetensors"))
      GTEST_SKIP() << test::smollm2_folder() << " is absent (scripts/get_smollm2 fetches it)";
    reference_ = read_json_file(test::fixture("smollm2/reference.json"));
    tokenizer_ = open_tokenizer(test::smollm2_folder());
    options_.chat = resolve_chat_format("auto", test::smollm2_folder());
  }
  json reference_;
  std::unique_ptr<Tokenizer> tokenizer_;
  DataOptions options_;
};

TEST_F(SmolLM2, PromptsLogitsAndGreedyTokensEqualTransformers) {
  auto model = load_llama(test::smollm2_folder());
  model->eval();
  torch::NoGradGuard no_grad;
  std::vector<std::vector<int>> prompts;
  double max_diff = 0;
  for (const auto& c : reference_.at("cases")) {
    SCOPED_TRACE(c.at("prompt").get<std::string>());
    const auto ids = apply_chat_template({{"user", c.at("prompt").get<std::string>()}}, *tokenizer_, options_).input_ids;
    ASSERT_EQ(ids, c.at("prompt_ids").get<std::vector<int>>());
    prompts.push_back(ids);
    const auto logits = model(torch::tensor(std::vector<int64_t>(ids.begin(), ids.end())).unsqueeze(0))[0][-1];  // [V]
    const auto top = c.at("top_ids").get<std::vector<int64_t>>();
    const auto want = torch::tensor(c.at("top_logits").get<std::vector<double>>(), torch::kFloat);
    max_diff = std::max(max_diff, (logits.index_select(0, torch::tensor(top)) - want).abs().max().item<double>());
    EXPECT_EQ(logits.argmax().item<int64_t>(), top.front());
  }
  std::printf("SmolLM2 next-token logits: max |safetune - transformers| = %.3g over %zu prompts x top-20 (tolerance %.0e)\n",
              max_diff, prompts.size(), kLogitTolerance);
  EXPECT_LE(max_diff, kLogitTolerance);

  GenerationOptions o;
  o.max_new_tokens = 48;
  o.stop_ids = generation_stop_ids(*tokenizer_, options_);
  const auto got = generate(model, prompts, o, tokenizer_->pad_id());
  int identical = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto want = reference_["cases"][i].at("greedy_ids").get<std::vector<int>>();
    identical += got[i] == want;
    EXPECT_EQ(got[i], want) << "prompt " << i << ": " << tokenizer_->decode(got[i]) << " | transformers: " << tokenizer_->decode(want);
  }
  std::printf("SmolLM2 greedy generation: %d of %zu prompts token-identical to transformers' generate\n", identical, prompts.size());
}

}  // namespace
}  // namespace st
