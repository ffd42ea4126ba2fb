// tests/trainer/lora_train_test.cpp — LoRA training: PEFT's initialisation and layers_to_transform, 10 steps equal to PEFT +
// torch.optim.AdamW (fixture: scripts/make_lora_fixtures), adapters saved as PEFT folders and read back,
// and whole runs of the binary: adapter-only checkpoints, bit-exact stop/resume with dropout and activation
// checkpointing, the base model's hash checked on resume, bad lora.* keys refused by name.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>

#include "common/files.h"
#include "common/json_file.h"
#include "models/lora_adapter.h"
#include "models/model_folder.h"
#include "tests/test_util.h"
#include "trainer/checkpoint.h"
#include "trainer/lora_parameters.h"
#include "trainer/train_step.h"

namespace st {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using test::fixture;
using test::run_safetune;
using test::shell_quote;
using test::TempDir;

const char* kBase = "golden/gqa_default_rope";

LoraSettings settings_of(const json& ref) {
  return {ref["r"].get<int64_t>(), ref["alpha"].get<double>(), 0.0, false,
          expand_lora_targets(ref["targets"].get<std::vector<std::string>>(), "fixture"), {}};
}

torch::Tensor logits_of(LlamaForCausalLM& model, const torch::Tensor& ids) {
  torch::NoGradGuard no_grad;
  return model(ids);
}

TEST(LoraInit, FollowsPeftDefaultAndLeavesTheOutputUnchanged) {
  auto model = load_llama(fixture(kBase));
  const auto ids = torch::randint(3, model->config().vocab_size, {2, 9});
  const auto before = logits_of(model, ids);
  const LoraSettings s{8, 16, 0.0, false, expand_lora_targets({"all-linear"}, "test"), {}};
  const auto params = attach_lora(model, s, /*seed=*/7);
  ASSERT_EQ(params.size(), 2u * 7 * model->config().num_hidden_layers);
  for (const auto& item : model->named_parameters()) {
    const bool adapter = item.key().find(".lora_") != std::string::npos;
    EXPECT_EQ(item.value().requires_grad(), adapter) << item.key();
  }
  for (const auto& [name, t] : params) {
    if (name.find("lora_B") != std::string::npos) {
      EXPECT_EQ(t.abs().max().item<double>(), 0.0) << name;
      continue;
    }
    // PEFT: kaiming_uniform_(a=√5) = U(±1/√in); the variance of U(±b) is b²/3.
    const double bound = 1.0 / std::sqrt(static_cast<double>(t.size(1)));
    EXPECT_LE(t.abs().max().item<double>(), bound) << name;
    EXPECT_NEAR(t.var().item<double>() / (bound * bound / 3), 1.0, 0.25) << name;
  }
  EXPECT_EQ((logits_of(model, ids) - before).abs().max().item<double>(), 0.0);
  auto again = load_llama(fixture(kBase));
  const auto same = attach_lora(again, s, 7);
  EXPECT_TRUE(torch::equal(same.front().second, params.front().second));
  auto other = load_llama(fixture(kBase));
  EXPECT_FALSE(torch::equal(attach_lora(other, s, 8).front().second, params.front().second));
}

// The unmerged path (what training and resume use) on PEFT's own adapter whose B is not zero.
TEST(LoraAttached, PeftAdapterGivesPeftLogits) {
  auto model = load_llama(fixture(kBase));
  attach_lora(model, {4, 8, 0.0, false, expand_lora_targets({"all-linear"}, "test"), {}}, 1);
  load_lora_weights(model, {4, 8, 0.0, false, expand_lora_targets({"all-linear"}, "test"), {}}, fixture("lora/all_linear_gqa"));
  const auto ref = TensorStore::open_file(fixture("lora/all_linear_gqa.reference.safetensors"));
  const double diff = (logits_of(model, ref.tensor("input_ids")) - ref.tensor("logits")).abs().max().item<double>();
  std::printf("[lora attached vs PEFT] max |logit diff| %.3e (tol 1e-5)\n", diff);
  EXPECT_LE(diff, 1e-5);
}

TEST(LoraParity, TenStepsEqualPeftWithTorchAdamW) {
  const auto ref = json::parse(read_text_file(fixture("lora/train_parity.json")));
  const auto batches = TensorStore::open_file(fixture("training_parity.safetensors"));
  auto model = load_llama(fixture(kBase));
  const auto settings = settings_of(ref);
  AdamW opt(attach_lora(model, settings, 0), {ref["beta1"], ref["beta2"], ref["eps"], ref["weight_decay"]});
  load_lora_weights(model, settings, fixture("lora/train_parity"));
  StepOptions o;
  o.lr = ref["lr"];
  o.max_grad_norm = ref["max_grad_norm"];
  double worst_loss = 0, worst_norm = 0;
  for (int step = 0; step < ref["steps"].get<int>(); ++step) {
    std::vector<Batch> micro;
    for (int a = 0; a < ref["grad_accum"].get<int>(); ++a) {
      Batch b;
      b.input_ids = batches.tensor(fmt::format("step{}.micro{}.input_ids", step, a)).clone();
      b.labels = batches.tensor(fmt::format("step{}.micro{}.labels", step, a)).clone();
      micro.push_back(b);
    }
    const auto r = train_step(model, opt, micro, o);
    ASSERT_TRUE(r.finite) << step;
    worst_loss = std::max(worst_loss, std::abs(r.loss - ref["losses"][step].get<double>()));
    worst_norm = std::max(worst_norm, std::abs(r.grad_norm - ref["grad_norms"][step].get<double>()) / ref["grad_norms"][step].get<double>());
  }
  const auto final_ref = TensorStore::open_file(fixture("lora/train_parity.final.safetensors"));
  double worst_weight = 0;
  for (const auto& [name, t] : lora_parameters(model))
    worst_weight = std::max(worst_weight, (t - final_ref.tensor("base_model.model." + name)).abs().max().item<double>());
  std::printf("[lora parity vs peft %s + torch %s] %d steps: max |loss diff| %.3e (tol 1e-4), max grad-norm rel diff %.3e, "
              "max |adapter weight diff| %.3e (tol 1e-5)\n", ref["peft"].get<std::string>().c_str(),
              ref["torch"].get<std::string>().c_str(), ref["steps"].get<int>(), worst_loss, worst_norm, worst_weight);
  EXPECT_LE(worst_loss, 1e-4);
  EXPECT_LE(worst_norm, 1e-3);
  EXPECT_LE(worst_weight, 1e-5);
}

// A saved adapter reads back bit for bit, and merging it (the reader generate/eval/merge use) gives the
// attached model's logits.
TEST(LoraSave, AdapterFolderRoundTripsAndMerges) {
  TempDir dir;
  auto model = load_llama(fixture(kBase));
  const LoraSettings s{4, 8, 0.0, true, expand_lora_targets({"q_proj", "down_proj"}, "test"), {}};
  for (auto& [name, t] : attach_lora(model, s, 3)) {
    torch::NoGradGuard no_grad;
    t.normal_(0, 0.3);
  }
  save_lora_adapter(dir.str(), model, s, "base-folder", {{"note", "x"}});
  const auto config = read_json_file(dir / "adapter_config.json");
  EXPECT_EQ(config["target_modules"], json({"q_proj", "down_proj"}));
  EXPECT_EQ(config["use_rslora"], true);
  auto loaded = load_llama(fixture(kBase));
  attach_lora(loaded, s, 99);
  EXPECT_EQ(load_lora_weights(loaded, s, dir.str()).at("note"), "x");
  const auto a = lora_parameters(model), b = lora_parameters(loaded);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i].second, b[i].second)) << a[i].first;
  auto merged = load_llama(fixture(kBase));
  merge_lora_adapter(merged, dir.str());
  const auto ids = torch::randint(3, model->config().vocab_size, {2, 11});
  EXPECT_LE((logits_of(merged, ids) - logits_of(model, ids)).abs().max().item<double>(), 1e-5);
  // Another r, or modules the run does not adapt, are refused by name.
  auto other = load_llama(fixture(kBase));
  const LoraSettings wider{4, 8, 0.0, true, expand_lora_targets({"q_proj", "down_proj", "up_proj"}, "test"), {}};
  attach_lora(other, wider, 1);
  test::expect_error([&] { load_lora_weights(other, wider, dir.str()); }, ExitCode::bad_input, "has no lora_A/lora_B for");
  test::expect_error([&] { load_lora_weights(other, {8, 8, 0.0, true, wider.targets, {}}, dir.str()); }, ExitCode::bad_input,
                     "differ from this run's lora.r 8");
  // An adapter folder given as the model resolves to the base its config names, which must exist.
  test::expect_error([&] { resolve_model_source(dir.str(), ""); }, ExitCode::bad_input,
                     "is an adapter folder whose base_model_name_or_path \"base-folder\" is not a model folder here");
  save_lora_adapter(dir.str(), model, s, fixture(kBase), {});
  const auto source = resolve_model_source(dir.str(), "");
  EXPECT_EQ(source.base, fixture(kBase));
  EXPECT_EQ(source.adapter, dir.str());
}

// lora.layers_to_transform adapts only the layers it lists, and the folder records them as PEFT does.
TEST(LoraSave, LayersToTransformAdaptsOnlyThoseLayers) {
  TempDir dir;
  auto model = load_llama(fixture(kBase));
  ASSERT_GE(model->config().num_hidden_layers, 2);
  const LoraSettings s{4, 8, 0.0, false, expand_lora_targets({"q_proj", "down_proj"}, "test"), {1}};
  for (auto& [name, t] : attach_lora(model, s, 3)) {
    EXPECT_NE(name.find("layers.1."), std::string::npos) << name;
    torch::NoGradGuard no_grad;
    t.normal_(0, 0.3);
  }
  EXPECT_EQ(lora_parameters(model).size(), 4u);  // 2 projections x (A, B) in one layer
  save_lora_adapter(dir.str(), model, s, "base-folder", {});
  EXPECT_EQ(read_json_file(dir / "adapter_config.json")["layers_to_transform"], json({1}));
  auto merged = load_llama(fixture(kBase));
  EXPECT_EQ(merge_lora_adapter(merged, dir.str()).layers, std::vector<int64_t>{1});
  const auto ids = torch::randint(3, model->config().vocab_size, {2, 11});
  EXPECT_LE((logits_of(merged, ids) - logits_of(model, ids)).abs().max().item<double>(), 1e-5);
  // Every layer's adapters cannot load it: the layer-0 modules have no weights there.
  auto every = load_llama(fixture(kBase));
  const LoraSettings all_layers{4, 8, 0.0, false, s.targets, {}};
  attach_lora(every, all_layers, 1);
  test::expect_error([&] { load_lora_weights(every, all_layers, dir.str()); }, ExitCode::bad_input,
                     "has no lora_A/lora_B for 'model.layers.0.self_attn.q_proj'");
}

// ---- runs of the binary ----

std::string write_lora_config(const TempDir& dir, const std::string& lora = "") {
  const auto path = dir / "run.json";
  write_text_file_atomic(path, fmt::format(R"({{
  "model": {{"path": "{}", "device": "cpu"}},
  "data": {{"train": "{}", "validation": "{}", "max_seq_len": 64}},
  "train": {{"output_dir": "{}", "max_steps": 10, "batch_size": 4, "grad_accum": 3, "seed": 5,
             "activation_checkpointing": true}},
  "lora": {{"enabled": true, "r": 4, "alpha": 8, "dropout": 0.1{}}},
  "optim": {{"lr": 1e-2, "weight_decay": 0.01}},
  "checkpoint": {{"every_steps": 4, "keep_last": 3}},
  "eval": {{"every_steps": 5}},
  "log": {{"every_steps": 1, "progress": "never"}}
}})", fixture(kBase), fixture("train/train.jsonl"), fixture("train/validation.jsonl"), dir / "run", lora));
  return path;
}

std::string adapter_bytes(const std::string& run_dir) {
  return read_text_file((fs::path(run_dir) / "final" / "adapter_model.safetensors").string());
}

TEST(LoraRun, StopAndResumeWithDropoutAndCheckpointingIsBitExact) {
  TempDir dir;
  const auto config = write_lora_config(dir);
  const auto straight = dir / "straight", stopped = dir / "stopped";
  auto r = run_safetune(test::train_command(config, straight));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("trainable: LoRA r=4 alpha=8"), std::string::npos) << r.output;
  for (int stop : {3, 7}) {
    r = run_safetune(test::train_command(config, stopped, fmt::format("--set train.stop_at_step={}", stop)));
    ASSERT_EQ(r.exit_code, 75) << r.output;
  }
  r = run_safetune(test::train_command(config, stopped));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(adapter_bytes(straight) == adapter_bytes(stopped));
  // The checkpointed layers' reruns draw the forward's dropout masks: the same run without checkpointing is identical.
  const auto plain = dir / "plain";
  r = run_safetune(test::train_command(config, plain, "--set train.activation_checkpointing=false"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(adapter_bytes(straight) == adapter_bytes(plain));
  const auto a = test::deterministic_metrics(straight), b = test::deterministic_metrics(stopped);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << "metrics line " << i;

  // final/ is a PEFT adapter folder with the tokenizer; checkpoints hold the adapter, not the base.
  const fs::path final_dir = fs::path(straight) / "final";
  EXPECT_TRUE(fs::exists(final_dir / "adapter_config.json"));
  EXPECT_TRUE(fs::exists(final_dir / "tokenizer.model"));
  EXPECT_FALSE(fs::exists(final_dir / "model.safetensors"));
  const fs::path step8 = CheckpointPaths::step_dir(straight, 8);
  EXPECT_FALSE(fs::exists(step8 / "model.safetensors"));
  const auto adapter_size = fs::file_size(step8 / "adapter_model.safetensors");
  const auto base_size = fs::file_size(fs::path(fixture(kBase)) / "model.safetensors");
  std::printf("[lora checkpoint] adapter %ju bytes vs base weights %ju bytes\n", static_cast<uintmax_t>(adapter_size),
              static_cast<uintmax_t>(base_size));
  EXPECT_LT(adapter_size * 4, base_size);
  const auto manifest = read_json_file((fs::path(straight) / "manifest.json").string());
  EXPECT_EQ(manifest["trainable"]["kind"], "lora");

  // generate takes the run's final/ as the model (its base from adapter_config.json), as --adapter on the base.
  const std::string prompt = " --prompt 'Say something.' --max-new-tokens 6";
  r = run_safetune("generate --model " + shell_quote(final_dir.string()) + prompt);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto with_flag = run_safetune("generate --model " + shell_quote(fixture(kBase)) + " --adapter " +
                                      shell_quote(final_dir.string()) + prompt);
  ASSERT_EQ(with_flag.exit_code, 0) << with_flag.output;
  EXPECT_EQ(r.output.substr(r.output.find('{')), with_flag.output.substr(with_flag.output.find('{')));

  // The adapter changed the model: merge writes a loadable folder whose logits differ from the base's.
  r = run_safetune("merge --base " + shell_quote(fixture(kBase)) + " --adapter " + shell_quote(final_dir.string()) +
                   " --out " + shell_quote(dir / "merged"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto base = load_llama(fixture(kBase)), merged = load_llama(dir / "merged");
  const auto ids = torch::randint(3, base->config().vocab_size, {1, 8});
  EXPECT_GT((logits_of(merged, ids) - logits_of(base, ids)).abs().max().item<double>(), 1e-4);
}

// final/ of a LoRA run (two projections of one layer: target_modules and layers_to_transform), loaded by
// peft.PeftModel.from_pretrained, gives safetune's logits.
TEST(LoraPeft, FinalAdapterLoadsInPeftWithSafetunesLogits) {
  const auto python = test::venv_python_with("peft, transformers");
  if (python.empty()) GTEST_SKIP() << "needs .venv with torch, transformers and peft (scripts/make_lora_fixtures sets it up)";
  TempDir dir;
  const auto config = write_lora_config(dir);
  const auto run = dir / "run";
  auto r = run_safetune(test::train_command(config, run, "--set train.max_steps=6 --set lora.target_modules='[\"q_proj\",\"down_proj\"]' "
                                                         "--set lora.layers_to_transform='[1]'"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto adapter = (fs::path(run) / "final").string();
  auto model = load_llama(fixture(kBase));
  const LoraSettings s{4, 8, 0.0, false, expand_lora_targets({"q_proj", "down_proj"}, "test"), {1}};
  attach_lora(model, s, 0);
  load_lora_weights(model, s, adapter);
  const auto ids = torch::randint(3, model->config().vocab_size, {2, 12});
  save_safetensors(dir / "expected.safetensors", {{"input_ids", ids}, {"logits", logits_of(model, ids).contiguous()}});
  r = test::run_command(shell_quote(python) + " " + shell_quote(fixture("../../scripts/check_peft_adapter.py")) + " " +
                        shell_quote(fixture(kBase)) + " " + shell_quote(adapter) + " " + shell_quote(dir / "expected.safetensors"));
  const auto line = r.output.rfind("peft ");
  std::printf("[lora final/ in peft] %s", line == std::string::npos ? r.output.c_str() : r.output.substr(line).c_str());
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(LoraRun, ResumeRefusesAnAdapterOfAnotherBaseModel) {
  TempDir dir;
  const auto config = write_lora_config(dir);
  const auto other_base = dir / "base";
  fs::copy(fixture(kBase), other_base);
  {
    auto model = load_llama(other_base);
    torch::NoGradGuard no_grad;
    model->model->norm->weight.mul_(1.5);
    save_llama(other_base, model, {torch::kFloat32, 0, {{fixture(std::string(kBase) + "/tokenizer.model"), "tokenizer.model"}}});
  }
  const auto a = dir / "a", b = dir / "b";
  auto r = run_safetune(test::train_command(config, a, "--set train.stop_at_step=4"));
  ASSERT_EQ(r.exit_code, 75) << r.output;
  const std::string on_b = "--set model.path=" + shell_quote(other_base);
  r = run_safetune(test::train_command(config, b, on_b + " --set train.stop_at_step=2"));
  ASSERT_EQ(r.exit_code, 75) << r.output;
  // Run a's checkpoint copied into run b (whose manifest names the other base): the adapter records its base.
  fs::copy(CheckpointPaths::step_dir(a, 4), CheckpointPaths::step_dir(b, 4));
  r = run_safetune(test::train_command(config, b, on_b));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("was trained on a base model with hash"), std::string::npos) << r.output;
}

// lora.base_dtype=bfloat16 keeps the frozen base in bf16 (the adapters fp32): the run trains and its losses
// stay near the fp32 base's.
TEST(LoraRun, Bf16BaseTrainsNearTheFloat32Base) {
  TempDir dir;
  const auto config = write_lora_config(dir);
  const auto fp32 = dir / "fp32", bf16 = dir / "bf16";
  auto r = run_safetune(test::train_command(config, fp32, "--set train.max_steps=4"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_safetune(test::train_command(config, bf16, "--set train.max_steps=4 --set lora.base_dtype=bfloat16"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("base frozen in bfloat16"), std::string::npos) << r.output;
  const auto a = test::deterministic_metrics(fp32), b = test::deterministic_metrics(bf16);
  ASSERT_EQ(a.size(), b.size());
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i]["type"] == "train") worst = std::max(worst, std::abs(a[i]["loss"].get<double>() - b[i]["loss"].get<double>()));
  std::printf("[lora bf16 base] max |loss diff| vs fp32 base over 4 steps: %.3e (tol 5e-2)\n", worst);
  EXPECT_LE(worst, 5e-2);
}

TEST(LoraRun, BadLoraKeysAreRefusedByName) {
  TempDir dir;
  const auto config = write_lora_config(dir);
  for (const auto& [set, fragment] : std::vector<std::pair<std::string, std::string>>{
           {"lora.r=0", "lora.r"}, {"lora.alpha=0", "lora.alpha"}, {"lora.dropout=1", "lora.dropout"},
           {"lora.target_modules=[\"qkv_proj\"]", "lora.target_modules"},
           {"lora.target_modules=[]", "lora.target_modules: names no module"},
           {"lora.layers_to_transform=[-1]", "lora.layers_to_transform"},
           {"lora.layers_to_transform=[9]", "lora.layers_to_transform: layer 9, but the model has"}}) {
    const auto r = run_safetune(test::train_command(config, dir / "run", "--set " + shell_quote(set)));
    EXPECT_EQ(r.exit_code, 2) << set << "\n" << r.output;
    EXPECT_NE(r.output.find(fragment), std::string::npos) << set << "\n" << r.output;
  }
}

}  // namespace
}  // namespace st
