// tests/models/generation_test.cpp — KV-cache decoding: left-padded batched greedy generation equals a
// naive loop that reruns the full forward on each prompt alone, and equals transformers' generate
// (greedy, left padding) on the golden models; sampling is reproducible from its seed.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "common/files.h"
#include "models/generation.h"
#include "models/model_folder.h"
#include "tests/test_util.h"

namespace st {
namespace {
using test::fixture;

const char* kModels[] = {"gqa_default_rope", "mha_tied_linear_rope", "gqa_llama3_rope"};
const std::vector<std::vector<int>> kPrompts = {{1, 40, 41, 42, 43}, {1, 7, 8, 9, 10, 11, 12, 13, 14}, {1, 99}};

std::vector<int> naive_greedy(LlamaForCausalLM& model, std::vector<int> ids, int64_t steps) {
  torch::NoGradGuard no_grad;
  std::vector<int> out;
  for (int64_t s = 0; s < steps; ++s) {
    auto input = torch::tensor(std::vector<int64_t>(ids.begin(), ids.end())).unsqueeze(0);
    const int next = static_cast<int>(model(input)[0][-1].argmax().item<int64_t>());
    out.push_back(next);
    ids.push_back(next);
  }
  return out;
}

class Generation : public ::testing::TestWithParam<const char*> {};

TEST_P(Generation, CachedLeftPaddedBatchEqualsNaiveLoop) {
  auto model = load_llama(fixture(std::string("golden/") + GetParam()));
  GenerationOptions o;
  o.max_new_tokens = 12;
  const auto got = generate(model, kPrompts, o, /*pad_id=*/0);
  for (size_t i = 0; i < kPrompts.size(); ++i) EXPECT_EQ(got[i], naive_greedy(model, kPrompts[i], 12)) << "prompt " << i;
}

TEST_P(Generation, MatchesTransformersGreedyGenerate) {
  const auto ref = nlohmann::json::parse(read_text_file(fixture("generation.json")));
  const auto& cases = ref.at(GetParam());
  auto model = load_llama(fixture(std::string("golden/") + GetParam()));
  GenerationOptions o;
  o.max_new_tokens = ref["max_new_tokens"].get<int64_t>();
  const auto prompts = ref["prompts"].get<std::vector<std::vector<int>>>();
  const auto got = generate(model, prompts, o, /*pad_id=*/0);
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(got[i], cases[i].get<std::vector<int>>()) << "prompt " << i;
}

INSTANTIATE_TEST_SUITE_P(Golden, Generation, ::testing::ValuesIn(kModels));

TEST(GenerationSampling, SeedReproducesAndStopIdsEndRows) {
  auto model = load_llama(fixture("golden/gqa_default_rope"));
  GenerationOptions o;
  o.max_new_tokens = 16;
  o.temperature = 1.5;
  o.top_p = 0.9;
  o.seed = 4;
  const auto a = generate(model, kPrompts, o, 0), b = generate(model, kPrompts, o, 0);
  EXPECT_EQ(a, b);
  o.seed = 5;
  EXPECT_NE(generate(model, kPrompts, o, 0), a);
  o.stop_ids = {a[0][2]};  // the third token of row 0 becomes a stop id: row 0 ends there
  const auto stopped = generate(model, kPrompts, {16, 1.5, 0.9, 4, o.stop_ids}, 0);
  ASSERT_LE(stopped[0].size(), 3u);
  EXPECT_EQ(stopped[0].back(), a[0][2]);
}

}  // namespace
}  // namespace st
