// tests/trainer/memory_estimate_test.cpp — `safetune memory`'s numbers against what the code allocates:
// parameter, adapter and AdamW counts equal the built model's; a checkpointed layer (full or LoRA, whose
// frozen embedding must still let checkpointing engage) keeps about its input and far less than a plain one.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/lora_adapter.h"
#include "models/model_folder.h"
#include "tests/test_util.h"
#include "trainer/memory_estimate.h"
#include "trainer/optimizer.h"

namespace st {
namespace {
using test::fixture;

int64_t numel(const NamedTensors& tensors) {
  int64_t n = 0;
  for (const auto& [name, t] : tensors) n += t.numel();
  return n;
}

TEST(MemoryEstimate, ParameterAdapterAndOptimizerBytesAreWhatTheCodeAllocates) {
  auto model = load_llama(fixture("golden/gqa_default_rope"));
  const auto& config = model->config();
  MemoryPlan plan;
  plan.lora = true;
  plan.r = 4;
  plan.targets = expand_lora_targets({"q_proj", "v_proj", "down_proj"}, "test");
  plan.base_dtype = torch::kBFloat16;
  const LayerActivationBytes layer{100, 10};
  const auto full = estimate_training_memory(config, MemoryPlan{}, layer);
  int64_t parameters = 0;
  for (const auto& p : model->parameters()) parameters += p.numel();
  EXPECT_EQ(full.parameters, parameters);
  EXPECT_EQ(full.trainable, parameters);

  const auto adapters = attach_lora(model, {plan.r, 8.0, 0.0, false, plan.targets}, 0);
  const auto lora = estimate_training_memory(config, plan, layer);
  EXPECT_EQ(lora.trainable, numel(adapters));
  EXPECT_EQ(lora_parameter_count(config, plan.r, plan.targets), numel(adapters));
  EXPECT_EQ(lora.weights, 2.0 * parameters + 4.0 * numel(adapters));
  AdamW opt(adapters, {});
  for (auto& [name, t] : adapters) t.mutable_grad() = torch::ones_like(t);
  opt.step(1e-3);
  EXPECT_EQ(lora.optimizer, 4.0 * numel(opt.state()));
  EXPECT_EQ(lora.gradients, 4.0 * numel(adapters));
}

TEST(MemoryEstimate, CheckpointedLayersKeepAboutTheirInputWithOrWithoutLora) {
  const auto config = LlamaConfig::from_file(fixture("golden/gqa_default_rope/config.json"));
  MemoryPlan full, lora;
  lora.lora = true;
  lora.r = 8;
  lora.targets = expand_lora_targets({"all-linear"}, "test");
  for (const auto* plan : {&full, &lora}) {
    const auto layer = measure_layer_activations(config, *plan);
    const double input = 2.0 * static_cast<double>(config.hidden_size);  // one bf16 hidden state per token
    std::printf("[memory %s] per token and layer: %.0f bytes kept, %.0f checkpointed (input %.0f)\n",
                plan->lora ? "lora" : "full", layer.per_token, layer.input_per_token, input);
    EXPECT_GT(layer.per_token, 4 * input);
    EXPECT_GE(layer.input_per_token, 0.5 * input);
    EXPECT_LE(layer.input_per_token, 3.0 * input);
    EXPECT_LT(layer.input_per_token, 0.2 * layer.per_token);
  }
}

}  // namespace
}  // namespace st
