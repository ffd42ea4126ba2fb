// tests/models/llama_golden_test.cpp — the Llama decoder against Hugging Face transformers: logits and
// loss to 1e-4 (fp32), per-parameter gradient norms to 1e-3 relative, on the fixtures written by
// scripts/make_reference.py (GQA and not, tied and untied, bias, default/linear/llama3 rope).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <filesystem>
#include <set>

#include "common/files.h"
#include "losses/causal_lm_loss.h"
#include "models/llama.h"
#include "models/model_folder.h"
#include "tests/test_util.h"

namespace st {
namespace {
namespace fs = std::filesystem;
using test::expect_error;
using test::fixture;
using test::TempDir;

// The last two are transformers' Qwen2ForCausalLM and MistralForCausalLM (model_type qwen2, mistral).
const char* kGoldenModels[] = {"gqa_default_rope", "mha_tied_linear_rope", "gqa_llama3_rope", "qwen2_qkv_bias", "mistral_gqa"};

struct Reference {
  torch::Tensor input_ids, labels, logits;
  nlohmann::json json;
};

Reference load_reference(const std::string& name) {
  auto file = SafetensorsFile::open(fixture("golden/" + name + ".reference.safetensors"));
  return {file->tensor("input_ids").clone(), file->tensor("labels").clone(), file->tensor("logits").clone(),
          nlohmann::json::parse(read_text_file(fixture("golden/" + name + ".reference.json")))};
}

class LlamaGolden : public ::testing::TestWithParam<const char*> {};

TEST_P(LlamaGolden, MatchesTransformersLogitsLossAndGradients) {
  const std::string name = GetParam();
  auto model = load_llama(fixture("golden/" + name));
  const auto ref = load_reference(name);

  auto logits = model(ref.input_ids);  // [B, T, V]
  const double logit_diff = (logits - ref.logits).abs().max().item<double>();
  auto loss = causal_lm_loss(logits, ref.labels).mean();
  const double loss_diff = std::abs(loss.item<double>() - ref.json["loss"].get<double>());
  loss.backward();

  double worst_rel = 0;
  std::string worst_name;
  for (const auto& item : model->named_parameters()) {
    const double want = ref.json["grad_norms"].at(item.key()).get<double>();
    const double got = item.value().grad().norm().item<double>();
    const double rel = std::abs(got - want) / std::max(want, 1e-12);
    if (rel > worst_rel) worst_rel = rel, worst_name = item.key();
  }
  std::printf("[golden %s] max |logit diff| %.3e (tol 1e-4), |loss diff| %.3e (tol 1e-4), "
              "max grad-norm rel diff %.3e at %s (tol 1e-3)\n",
              name.c_str(), logit_diff, loss_diff, worst_rel, worst_name.c_str());
  EXPECT_LE(logit_diff, 1e-4);
  EXPECT_LE(loss_diff, 1e-4);
  EXPECT_LE(worst_rel, 1e-3) << worst_name;
  EXPECT_EQ(ref.json["grad_norms"].size(), model->named_parameters().size());
}

TEST_P(LlamaGolden, ParameterShapeListMatchesModules) {
  const auto config = LlamaConfig::from_file(fixture(std::string("golden/") + GetParam() + "/config.json"));
  LlamaForCausalLM model(config);
  const auto shapes = llama_parameter_shapes(config);
  const auto params = model->named_parameters();
  ASSERT_EQ(shapes.size(), params.size());
  for (size_t i = 0; i < shapes.size(); ++i) {
    EXPECT_EQ(shapes[i].first, params[i].key());
    EXPECT_EQ(shapes[i].second, params[i].value().sizes().vec()) << shapes[i].first;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, LlamaGolden, ::testing::ValuesIn(kGoldenModels));

// GPU: the same golden comparison in bf16 at 2e-2. Skips cleanly without CUDA.
TEST(LlamaGoldenCuda, MatchesTransformersInBf16) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  for (const char* name : kGoldenModels) {
    auto model = load_llama(fixture(std::string("golden/") + name), torch::kCUDA);
    model->to(torch::kBFloat16);
    const auto ref = load_reference(name);
    torch::NoGradGuard no_grad;
    auto logits = model(ref.input_ids.to(torch::kCUDA)).to(torch::kCPU, torch::kFloat32);
    const double diff = (logits - ref.logits).abs().max().item<double>();
    std::printf("[golden cuda bf16 %s] max |logit diff| %.3e (tol 2e-2)\n", name, diff);
    EXPECT_LE(diff, 2e-2) << name;
  }
}

// Loss and every parameter gradient with per-layer activation checkpointing against without it, on
// `device` (bf16 autocast on CUDA, as training runs). Returns the largest gradient difference relative to
// the largest gradient.
// Nodes of the autograd graph behind `t` whose name contains `part`.
int count_graph_nodes(const torch::Tensor& t, const std::string& part) {
  std::vector<torch::autograd::Node*> todo{t.grad_fn().get()};
  std::set<torch::autograd::Node*> seen;
  int found = 0;
  while (!todo.empty()) {
    auto* node = todo.back();
    todo.pop_back();
    if (node == nullptr || !seen.insert(node).second) continue;
    found += node->name().find(part) != std::string::npos;
    for (const auto& edge : node->next_edges()) todo.push_back(edge.function.get());
  }
  return found;
}

double checkpointing_gradient_diff(const char* name, torch::Device device) {
  const auto ref = load_reference(name);
  auto grads = [&](bool checkpoint) {
    auto model = load_llama(fixture(std::string("golden/") + name), device);
    model->model->checkpoint_layers = checkpoint;
    const bool cuda = device.is_cuda();
    at::autocast::set_autocast_enabled(at::kCUDA, cuda);
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    auto loss = causal_lm_loss(model(ref.input_ids.to(device)), ref.labels.to(device)).mean();
    at::autocast::set_autocast_enabled(at::kCUDA, false);
    // The layers really are checkpointed (else the comparison would be of a run with itself).
    EXPECT_EQ(count_graph_nodes(loss, "CheckpointedLayer"), checkpoint ? model->config().num_hidden_layers : 0);
    loss.backward();
    std::vector<torch::Tensor> out{loss.detach().reshape({1})};
    for (auto& p : model->parameters()) out.push_back(p.grad().flatten().to(torch::kFloat32));
    return torch::cat(out).cpu();
  };
  const auto with = grads(true), without = grads(false);
  return ((with - without).abs().max() / without.abs().max()).item<double>();
}

TEST_P(LlamaGolden, ActivationCheckpointingGivesTheSameGradients) {
  const double diff = checkpointing_gradient_diff(GetParam(), torch::kCPU);
  std::printf("[checkpointing %s] max |grad diff| / max |grad| %.3e (tol 1e-6)\n", GetParam(), diff);
  EXPECT_LE(diff, 1e-6);
}

TEST(LlamaAttentionKernel, CpuTrainingAttentionIsTheFusedFlashKernel) {
  const auto config = LlamaConfig::from_file(fixture("golden/gqa_default_rope/config.json"));
  EXPECT_EQ(attention_kernel(config, torch::kCPU, torch::kFloat32, 64), "flash");
}

// GPU: checkpointing under bf16 autocast reruns the layer in bf16 too (a wrong autocast state in the
// rerun would show as a bf16-vs-fp32 gradient difference), and training attention is a fused kernel.
TEST(LlamaGoldenCuda, CheckpointingUnderAutocastAndFusedAttention) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  for (const char* name : kGoldenModels) {
    const double diff = checkpointing_gradient_diff(name, torch::kCUDA);
    std::printf("[checkpointing cuda bf16 %s] max |grad diff| / max |grad| %.3e (tol 1e-6)\n", name, diff);
    EXPECT_LE(diff, 1e-6) << name;
    const auto config = LlamaConfig::from_file(fixture(std::string("golden/") + name + "/config.json"));
    const auto kernel = attention_kernel(config, torch::kCUDA, torch::kBFloat16, 64);
    std::printf("[attention kernel cuda bf16 %s] %s\n", name, kernel.c_str());
    EXPECT_NE(kernel, "math") << name;
  }
}

TEST(LlamaRope, Llama3FrequenciesKeepHighDivideLowAndBlendBetween) {
  // The golden fixture's llama3 rope spans all three bands: wavelengths 2π < 64/4 (kept), 20 and 63 in
  // [64/4, 64/1] (blended), the rest above 64 (divided by 8).
  auto config = LlamaConfig::from_file(fixture("golden/gqa_llama3_rope/config.json"));
  ASSERT_EQ(config.rope.original_max_position_embeddings, 64);
  auto scaled = rope_inverse_frequencies(config);
  config.rope.type = RopeType::Default;
  auto plain = rope_inverse_frequencies(config);
  auto ratio = plain / scaled;  // 1 for high frequencies, factor (8) for low, in between for medium
  EXPECT_NEAR(ratio[0].item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(ratio[-1].item<double>(), 8.0, 1e-5);
  EXPECT_GT(ratio[1].item<double>(), 1.0);
  EXPECT_LT(ratio[2].item<double>(), 8.0);
  EXPECT_TRUE((ratio.diff() >= -1e-6).all().item<bool>());  // monotone blend
}

// A Qwen2 model is the Llama model plus q/k/v biases: with those biases zero its logits equal the Llama model's
// with the same weights, bit for bit, and a non-zero bias moves them. (Equality with transformers' Qwen2 needs
// fixtures from scripts/make_reference, not yet generated.)
TEST(LlamaFamilies, Qwen2WithZeroBiasesIsLlamaAndItsBiasesAreUsed) {
  auto llama = load_llama(fixture("golden/gqa_default_rope"));
  LlamaConfig qc = llama->config();
  qc.model_type = "qwen2";
  qc.qkv_bias = true;
  LlamaForCausalLM qwen(qc);
  {
    torch::NoGradGuard no_grad;
    auto source = llama->named_parameters();
    for (auto& item : qwen->named_parameters()) {
      if (const auto* p = source.find(item.key())) item.value().copy_(*p);
      else item.value().zero_();  // the biases Llama does not have
    }
  }
  const auto ids = torch::randint(/*high=*/200, {2, 9}, torch::kLong);
  EXPECT_TRUE(torch::equal(qwen(ids), llama(ids)));
  {
    torch::NoGradGuard no_grad;
    qwen->named_parameters()["model.layers.0.self_attn.k_proj.bias"].fill_(0.5);
  }
  EXPECT_GT((qwen(ids) - llama(ids)).abs().max().item<double>(), 1e-3);
}

TEST(LlamaLoss, AllMaskedBatchGivesZeroLossAndFiniteGradient) {
  auto logits = torch::randn({2, 5, 11}, torch::requires_grad());
  auto labels = torch::full({2, 5}, kIgnoreIndex, torch::kLong);
  auto loss = causal_lm_loss(logits, labels);
  EXPECT_EQ(loss.count.item<int64_t>(), 0);
  auto mean = loss.mean();
  mean.backward();
  EXPECT_EQ(mean.item<float>(), 0.0f);
  EXPECT_TRUE(torch::isfinite(logits.grad()).all().item<bool>());
}

TEST(LlamaInit, SameSeedSameWeightsAndHfStatistics) {
  const auto config = LlamaConfig::from_file(fixture("golden/gqa_default_rope/config.json"));
  LlamaForCausalLM a(config), b(config);
  a->init_weights(5);
  b->init_weights(5);
  for (size_t i = 0; i < a->parameters().size(); ++i)
    EXPECT_TRUE(torch::equal(a->parameters()[i], b->parameters()[i]));
  EXPECT_NEAR(a->model->embed_tokens->weight.std().item<double>(), config.initializer_range, 0.01);
  EXPECT_TRUE(torch::equal(a->model->norm->weight, torch::ones({config.hidden_size})));
}

// ---- config.json errors: each names the file and the key ----

nlohmann::json golden_config() {
  return nlohmann::json::parse(read_text_file(fixture("golden/gqa_default_rope/config.json")));
}

TEST(LlamaConfigErrors, UnsupportedOrInvalidOptionsAreNamed) {
  struct Case {
    const char* key;
    nlohmann::json value;
    const char* fragment;
  };
  const Case cases[] = {
      {"architectures", {"MistralForCausalLM"}, "MistralForCausalLM"},
      {"model_type", "gpt2", "model_type 'gpt2'"},
      {"hidden_act", "gelu", "hidden_act"},
      {"num_key_value_heads", 3, "multiple of num_key_value_heads"},
      {"hidden_size", -4, "'hidden_size' must be an integer in [1, 131072]"},
      {"vocab_size", "big", "'vocab_size' must be an integer in [1, 4194304]"},
      {"rope_parameters", {{"rope_type", "yarn"}, {"factor", 4.0}}, "'rope_parameters.rope_type' = 'yarn'"},
      {"rope_parameters", {{"rope_type", "linear"}, {"factor", 0.5}}, "factor' must be in [1, 1e6]"},
      {"tie_word_embeddings", "yes", "'tie_word_embeddings' must be true or false"},
      {"attention_dropout", 0.1, "attention_dropout"},
      {"head_dim", 7, "head_dim must be even"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.fragment);
    auto j = golden_config();
    j[c.key] = c.value;
    expect_error([&] { LlamaConfig::from_json(j, "dir/config.json"); }, ExitCode::bad_input, c.fragment);
    expect_error([&] { LlamaConfig::from_json(j, "dir/config.json"); }, ExitCode::bad_input, "dir/config.json");
  }
  auto j = golden_config();
  j.erase("intermediate_size");
  expect_error([&] { LlamaConfig::from_json(j, "c.json"); }, ExitCode::bad_input, "missing required key 'intermediate_size'");
}

TEST(LlamaConfig, LegacyRopeScalingAndV5RopeParametersAgree) {
  auto v5 = golden_config();
  v5["rope_parameters"] = {{"rope_type", "llama3"}, {"rope_theta", 500000.0}, {"factor", 8.0},
                           {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
                           {"original_max_position_embeddings", 8192}};
  auto v4 = golden_config();
  v4.erase("rope_parameters");
  v4["rope_theta"] = 500000.0;
  v4["rope_scaling"] = {{"type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0}, {"high_freq_factor", 4.0},
                        {"original_max_position_embeddings", 8192}};
  const auto a = LlamaConfig::from_json(v5, "v5"), b = LlamaConfig::from_json(v4, "v4");
  EXPECT_TRUE(torch::equal(rope_inverse_frequencies(a), rope_inverse_frequencies(b)));
  EXPECT_EQ(a.rope.theta, 500000.0);
  EXPECT_EQ(b.rope.original_max_position_embeddings, 8192);
  // to_json keeps the form it was given and round-trips.
  EXPECT_TRUE(a.to_json().contains("rope_parameters"));
  EXPECT_TRUE(torch::equal(rope_inverse_frequencies(LlamaConfig::from_json(b.to_json(), "rt")),
                           rope_inverse_frequencies(b)));
}

// ---- weights that do not match the config: every problem named at once ----

TEST(LlamaLoadErrors, MissingUnusedAndMisshapedTensorsAreAllNamed) {
  TempDir dir;
  const auto src = fixture("golden/gqa_default_rope");
  fs::copy_file(src + "/config.json", dir / "config.json");
  auto store = TensorStore::open_folder(src);
  NamedTensors tensors;
  for (const auto& [name, _] : store.entries()) {
    if (name == "model.norm.weight") continue;  // missing
    auto t = store.tensor(name).clone();
    if (name == "model.layers.1.mlp.up_proj.weight") t = torch::zeros({3, 3});  // wrong shape
    tensors.push_back({name, t});
  }
  tensors.push_back({"model.layers.9.extra.weight", torch::zeros({1})});  // unused
  save_safetensors(dir / "model.safetensors", tensors);
  try {
    load_llama(dir.str());
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(e.code(), ExitCode::bad_input);
    EXPECT_NE(msg.find("1 missing tensor(s): model.norm.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("model.layers.1.mlp.up_proj.weight (file 3x3, model 64x32)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("1 unused tensor(s): model.layers.9.extra.weight"), std::string::npos) << msg;
  }
}

TEST(LlamaSave, SaveThenLoadGivesIdenticalLogitsInAnyShardingAndTiedLmHeadIsOmitted) {
  TempDir dir;
  auto model = load_llama(fixture("golden/mha_tied_linear_rope"));
  save_llama(dir / "out", model, {torch::kFloat32, /*max_shard_bytes=*/20000, {}});
  auto again = load_llama(dir / "out");
  auto ids = torch::randint(3, 256, {1, 9});
  EXPECT_TRUE(torch::equal(model(ids), again(ids)));
  EXPECT_FALSE(TensorStore::open_folder(dir / "out").contains("lm_head.weight"));
}

}  // namespace
}  // namespace st
