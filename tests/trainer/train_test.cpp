// tests/trainer/train_test.cpp — the training loop: parity with PyTorch (torch.optim.AdamW, same schedule,
// clipping and accumulation), token-weighted accumulation, bit-exact stop/resume, SIGKILL crash safety,
// SIGTERM handling, and refusing resumes that would change the run.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <thread>

#include "common/files.h"
#include "common/tokens.h"
#include "losses/causal_lm_loss.h"
#include "models/model_folder.h"
#include "tests/test_util.h"
#include "trainer/checkpoint.h"
#include "trainer/train_step.h"

extern char** environ;

namespace st {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using test::deterministic_metrics;
using test::final_weights;
using test::fixture;
using test::run_safetune;
using test::shell_quote;
using test::TempDir;

// ---- parity with PyTorch ----

// Plain CE steps: learning rate and clipping, no safety penalty.
StepOptions step_options(double lr, double max_grad_norm) {
  StepOptions o;
  o.lr = lr;
  o.max_grad_norm = max_grad_norm;
  return o;
}

Batch fixture_batch(const TensorStore& store, int step, int micro) {
  Batch b;
  b.input_ids = store.tensor(fmt::format("step{}.micro{}.input_ids", step, micro)).clone();
  b.labels = store.tensor(fmt::format("step{}.micro{}.labels", step, micro)).clone();
  return b;
}

TEST(TrainParity, MatchesPyTorchAdamWScheduleClippingAndAccumulation) {
  const auto ref = json::parse(read_text_file(fixture("training_parity.json")));
  const auto store = TensorStore::open_file(fixture("training_parity.safetensors"));
  auto model = load_llama(fixture("golden/" + ref["model"].get<std::string>()));
  NamedTensors params;
  for (auto& item : model->named_parameters()) params.emplace_back(item.key(), item.value());
  AdamW opt(params, {ref["beta1"].get<double>(), ref["beta2"].get<double>(), ref["eps"].get<double>(),
                     ref["weight_decay"].get<double>()});
  const ScheduleOptions schedule{enum_from_name<ScheduleType>(ref["schedule"], "schedule"), ref["lr"], ref["warmup"], ref["steps"], 0.0};
  double worst_loss = 0, worst_norm = 0, worst_lr = 0;
  for (int step = 0; step < ref["steps"].get<int>(); ++step) {
    std::vector<Batch> micro;
    for (int a = 0; a < ref["grad_accum"].get<int>(); ++a) micro.push_back(fixture_batch(store, step, a));
    const double lr = learning_rate(schedule, step);
    const auto r = train_step(model, opt, micro, step_options(lr, ref["max_grad_norm"].get<double>()));
    ASSERT_TRUE(r.finite) << "step " << step;
    worst_loss = std::max(worst_loss, std::abs(r.loss - ref["losses"][step].get<double>()));
    worst_norm = std::max(worst_norm, std::abs(r.grad_norm - ref["grad_norms"][step].get<double>()) / ref["grad_norms"][step].get<double>());
    worst_lr = std::max(worst_lr, std::abs(lr - ref["lrs"][step].get<double>()));
  }
  std::printf("[train parity vs torch %s] 20 steps: max |loss diff| %.3e (tol 1e-4), max grad-norm rel diff %.3e, "
              "max |lr diff| %.3e\n", ref["torch"].get<std::string>().c_str(), worst_loss, worst_norm, worst_lr);
  EXPECT_LE(worst_loss, 1e-4);
  EXPECT_LE(worst_norm, 1e-3);
  EXPECT_LE(worst_lr, 1e-12);
}

TEST(TrainStep, AccumulatedMicroBatchesEqualOneBigBatch) {
  const auto store = TensorStore::open_file(fixture("training_parity.safetensors"));
  auto run = [&](bool split) {
    auto model = load_llama(fixture("golden/gqa_default_rope"));
    NamedTensors params;
    for (auto& item : model->named_parameters()) params.emplace_back(item.key(), item.value());
    AdamW opt(params, {});
    std::vector<Batch> micro = {fixture_batch(store, 0, 0), fixture_batch(store, 0, 1)};
    if (!split) {
      Batch big;
      big.input_ids = torch::cat({micro[0].input_ids, micro[1].input_ids});
      big.labels = torch::cat({micro[0].labels, micro[1].labels});
      micro = {big};
    }
    auto r = train_step(model, opt, micro, step_options(1e-3, 1.0));
    return std::make_pair(r, model->model->norm->weight.clone());
  };
  const auto [a, wa] = run(true);
  const auto [b, wb] = run(false);
  EXPECT_EQ(a.tokens, b.tokens);
  EXPECT_NEAR(a.ce, b.ce, 1e-6);
  EXPECT_NEAR(a.grad_norm, b.grad_norm, 1e-6 * b.grad_norm);
  EXPECT_LE((wa - wb).abs().max().item<double>(), 1e-6);
}

TEST(TrainStep, EvaluateCeEqualsTheFullLogitsLossOverAllBatches) {
  const auto store = TensorStore::open_file(fixture("training_parity.safetensors"));
  auto model = load_llama(fixture("golden/gqa_default_rope"));
  std::vector<Batch> batches = {fixture_batch(store, 0, 0), fixture_batch(store, 0, 1)};
  batches[1].labels.narrow(/*dim=*/1, 0, 3).fill_(kIgnoreIndex);  // a prompt: fewer scored tokens in one batch
  double sum = 0;
  int64_t tokens = 0;
  {
    torch::NoGradGuard no_grad;
    for (const auto& b : batches) {
      const auto loss = causal_lm_loss(model(b.input_ids), b.labels);
      sum += loss.sum.item<double>();
      tokens += loss.count.item<int64_t>();
    }
  }
  const auto r = evaluate_ce(model, batches);
  EXPECT_EQ(r.tokens, tokens);
  std::printf("[evaluate_ce] chunked %.8f, full logits %.8f\n", r.ce, sum / tokens);
  EXPECT_NEAR(r.ce, sum / static_cast<double>(tokens), 1e-5);
}

TEST(TrainStep, FullyMaskedStepIsFiniteAndChangesNothingButMoments) {
  const auto store = TensorStore::open_file(fixture("training_parity.safetensors"));
  auto model = load_llama(fixture("golden/gqa_default_rope"));
  NamedTensors params;
  for (auto& item : model->named_parameters()) params.emplace_back(item.key(), item.value());
  AdamW opt(params, {});
  Batch b = fixture_batch(store, 0, 0);
  b.labels.fill_(kIgnoreIndex);
  const auto r = train_step(model, opt, {b}, step_options(1e-3, 1.0));
  EXPECT_TRUE(r.finite);
  EXPECT_EQ(r.tokens, 0);
  EXPECT_EQ(r.ce, 0.0);
  EXPECT_EQ(r.grad_norm, 0.0);
}

// ---- runs of the real binary ----

std::string write_run_config(const TempDir& dir, const std::string& extra_train = "") {
  const auto path = dir / "run.json";
  write_text_file_atomic(path, fmt::format(R"({{
  "model": {{"path": "{}", "device": "cpu"}},
  "data": {{"train": "{}", "validation": "{}", "max_seq_len": 64}},
  "train": {{"output_dir": "{}", "max_steps": 12, "batch_size": 4, "grad_accum": 5, "seed": 3{}}},
  "optim": {{"lr": 2e-3, "weight_decay": 0.01}},
  "schedule": {{"type": "cosine", "warmup_steps": 2}},
  "checkpoint": {{"every_steps": 4, "keep_last": 2}},
  "eval": {{"every_steps": 4}},
  "log": {{"every_steps": 1, "progress": "never"}}
}})", fixture("golden/gqa_default_rope"), fixture("train/train.jsonl"), fixture("train/validation.jsonl"),
                                           dir / "run", extra_train));
  return path;
}

std::string train_args(const std::string& config, const std::string& out, const std::string& extra = "") {
  return "train --config " + shell_quote(config) + " --set train.output_dir=" + shell_quote(out) + " " + extra;
}

// Metrics lines without the wall-clock fields, which are the only ones allowed to differ.
TEST(TrainResume, StopAndResumeAtAwkwardPointsIsBitExact) {
  TempDir dir;
  const auto config = write_run_config(dir);
  const auto straight = dir / "straight", stopped = dir / "stopped";
  // The straight run tokenizes without a cache; the stopped one fills a cache and every resume maps it.
  auto r = run_safetune(train_args(config, straight, "--set data.cache=off"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string cache = "--set data.cache=" + shell_quote(dir / "cache") + " ";
  // 24 micro-batches per epoch and 5 per step: step 3 is mid-epoch, step 5 crosses the epoch boundary
  // inside its accumulation, step 9 is mid-epoch again.
  for (int stop : {3, 5, 9}) {
    r = run_safetune(train_args(config, stopped, cache + fmt::format("--set train.stop_at_step={}", stop)));
    ASSERT_EQ(r.exit_code, 75) << r.output;
    EXPECT_TRUE(fs::exists(CheckpointPaths::step_dir(stopped, stop))) << stop;
  }
  r = run_safetune(train_args(config, stopped, cache));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("resume: continuing from"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("read from the token cache"), std::string::npos) << r.output;
  EXPECT_EQ(final_weights(straight), final_weights(stopped));
  const auto a = deterministic_metrics(straight), b = deterministic_metrics(stopped);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i], b[i]) << "metrics line " << i;
  const auto manifest = json::parse(read_text_file(fs::path(stopped) / "manifest.json"));
  EXPECT_EQ(manifest["resumes"].size(), 3u);
  // Provenance: how the run was started and each resume, by whom (the command line), when, from what source.
  EXPECT_EQ(manifest["command_line"].back(), "train.stop_at_step=3");
  EXPECT_FALSE(manifest["data"]["read"]["cache_hit"].get<bool>());  // the first start filled the cache
  EXPECT_TRUE(fs::exists(manifest["data"]["read"]["cache"].get<std::string>()));
  EXPECT_TRUE(manifest["resumes"][2]["data_read"]["cache_hit"].get<bool>());  // each resume mapped it
  EXPECT_TRUE(std::regex_match(manifest["started_at"].get<std::string>(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  EXPECT_FALSE(manifest["source_version"].get<std::string>().empty());
  // Where it ran: CPU rounding depends on the kernels and the threads, so both are recorded, at each resume too.
  for (const auto& cpu : {manifest["cpu"], manifest["resumes"][2]["cpu"]}) {
    EXPECT_TRUE(std::regex_match(cpu["aten_kernels"].get<std::string>(), std::regex("AVX512|AVX2|DEFAULT|ZVECTOR|VSX|SVE.*")));
    EXPECT_GE(cpu["threads"].get<int>(), 1);
    EXPECT_FALSE(cpu["model"].get<std::string>().empty());
  }
  EXPECT_EQ(manifest["resumes"][0]["step"], 3);
  EXPECT_EQ(manifest["resumes"][0]["command_line"].back(), "train.stop_at_step=5");
  EXPECT_EQ(manifest["resumes"][2]["command_line"][1], "train");
  EXPECT_TRUE(manifest["resumes"][2]["at"].is_string());
  // keep_last = 2: only the two newest checkpoints remain
  EXPECT_TRUE(fs::exists(CheckpointPaths::step_dir(stopped, 12)));
  EXPECT_FALSE(fs::exists(CheckpointPaths::step_dir(stopped, 4)));
}

pid_t spawn_safetune(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> argv = {SAFETUNE_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, SAFETUNE_BIN, &actions, nullptr, cargv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int wait_exit_code(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(TrainResume, SurvivesTwentySigkillsAtRandomMoments) {
  TempDir dir;
  const auto config = write_run_config(dir);
  const std::vector<std::string> common = {"--set", "checkpoint.every_steps=1", "--set", "train.max_steps=24",
                                           "--set", "checkpoint.keep_last=2"};
  auto args_for = [&](const std::string& out) {
    std::vector<std::string> a = {"train", "--config", config, "--set", "train.output_dir=" + out};
    a.insert(a.end(), common.begin(), common.end());
    return a;
  };
  const auto straight = dir / "straight", crashed = dir / "crashed";
  ASSERT_EQ(wait_exit_code(spawn_safetune(args_for(straight), dir / "straight.log")), 0) << read_text_file(dir / "straight.log");

  std::mt19937 rng(12345);
  int killed = 0;
  for (int attempt = 0; attempt < 20; ++attempt) {
    const pid_t pid = spawn_safetune(args_for(crashed), dir / "crashed.log");
    std::this_thread::sleep_for(std::chrono::milliseconds(150 + rng() % 900));
    killed += ::kill(pid, SIGKILL) == 0;
    const int code = wait_exit_code(pid);
    EXPECT_TRUE(code == 128 + SIGKILL || code == 0) << "attempt " << attempt << " exit " << code << "\n" << read_text_file(dir / "crashed.log");
    // Whatever moment it died at, the folder resumes from a complete, verified checkpoint (or has none yet).
    const auto point = find_resume_checkpoint(crashed);
    if (!point.dir.empty()) {
      EXPECT_FALSE(verify_checkpoint(point.dir).has_value());
    }
  }
  const int code = wait_exit_code(spawn_safetune(args_for(crashed), dir / "crashed.log"));
  ASSERT_EQ(code, 0) << read_text_file(dir / "crashed.log");
  std::printf("[crash safety] %d SIGKILLs, then resumed to the end\n", killed);
  EXPECT_EQ(final_weights(straight), final_weights(crashed));
  EXPECT_EQ(deterministic_metrics(straight), deterministic_metrics(crashed));
}

TEST(TrainSignals, SigtermWritesACheckpointAndExits75) {
  TempDir dir;
  const auto config = write_run_config(dir);
  const auto out = dir / "run";
  const pid_t pid = spawn_safetune({"train", "--config", config, "--set", "train.max_steps=100000", "--set",
                                    "checkpoint.every_steps=0"}, dir / "log");
  // wait until training has begun (the first metrics line), then ask it to stop
  for (int i = 0; i < 400 && (!fs::exists(fs::path(out) / "metrics.jsonl") || fs::file_size(fs::path(out) / "metrics.jsonl") == 0); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit_code(pid), 75) << read_text_file(dir / "log");
  const auto point = find_resume_checkpoint(out);
  ASSERT_FALSE(point.dir.empty()) << read_text_file(dir / "log");
  EXPECT_NE(read_text_file(dir / "log").find("stopped (signal 15)"), std::string::npos);
}

TEST(TrainResume, RefusesChangesThatBreakResumeAndAllowsMoreSteps) {
  TempDir dir;
  const auto config = write_run_config(dir);
  const auto out = dir / "run";
  ASSERT_EQ(run_safetune(train_args(config, out, "--set train.stop_at_step=4")).exit_code, 75);
  auto r = run_safetune(train_args(config, out, "--set data.max_seq_len=128"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("data.max_seq_len: 64 -> 128"), std::string::npos) << r.output;
  r = run_safetune(train_args(config, out, "--resume never"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("already has checkpoints"), std::string::npos) << r.output;
  // A corrupted newest checkpoint is skipped with the reason, and the older one is used.
  ASSERT_EQ(run_safetune(train_args(config, out, "--set train.stop_at_step=6")).exit_code, 75);
  {
    std::ofstream f(fs::path(CheckpointPaths::step_dir(out, 6)) / "optimizer.safetensors", std::ios::binary | std::ios::app);
    f << "garbage";
  }
  r = run_safetune(train_args(config, out, "--set train.max_steps=14"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("skipped step-00000006: optimizer.safetensors does not match its checksum"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("config change allowed: train.max_steps: 12 -> 14"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("step-00000004 (step 4)"), std::string::npos) << r.output;
}

TEST(TrainResume, RefusesChangedDataFiles) {
  TempDir dir;
  const auto data = dir / "train.jsonl";
  fs::copy_file(fixture("train/train.jsonl"), data);
  const auto config = write_run_config(dir);
  const auto out = dir / "run";
  ASSERT_EQ(run_safetune(train_args(config, out, "--set data.train=" + shell_quote(data) + " --set train.stop_at_step=2")).exit_code, 75);
  {
    std::ofstream f(data, std::ios::app);
    f << R"({"prompt": "new", "completion": "line"})" << "\n";
  }
  const auto r = run_safetune(train_args(config, out, "--set data.train=" + shell_quote(data)));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("data files changed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("manifest.json): " + data), std::string::npos) << r.output;  // names the file
}

// Weights that overflow are never written: the run stops (exit 1) at the checkpoint it would have written,
// names the last good one, and every checkpoint left behind holds finite weights.
TEST(TrainNonFinite, OverflowedWeightsAreNeverCheckpointed) {
  TempDir dir;
  const auto config = write_run_config(dir);
  // A learning rate beyond fp32's range makes the weights infinite in the first update; the three later
  // steps are skipped (their loss is NaN) and the checkpoint at step 4 is refused.
  auto r = run_safetune(train_args(config, dir / "skip", "--set optim.lr=1e39 --set schedule.warmup_steps=0 --set train.max_steps=4"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("NaN or infinite values at step 4"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("No checkpoint was written yet"), std::string::npos) << r.output;
  EXPECT_TRUE(find_resume_checkpoint(dir / "skip").dir.empty());
  EXPECT_FALSE(fs::exists(dir / "skip/final"));
  int64_t skipped = 0;
  for (const auto& line : deterministic_metrics(dir / "skip"))
    if (line["type"] == "train") skipped = line["skipped_nonfinite"].get<int64_t>();
  EXPECT_EQ(skipped, 3);
  // With warmup the first update is small and its checkpoint good; the stop names it and it loads.
  r = run_safetune(train_args(config, dir / "stop", "--set optim.lr=1e39 --set schedule.warmup_steps=4 "
                              "--set train.on_nonfinite=stop --set checkpoint.every_steps=1"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  const auto point = find_resume_checkpoint(dir / "stop");
  ASSERT_FALSE(point.dir.empty()) << r.output;
  const std::string step = point.dir.substr(point.dir.size() - 8);
  EXPECT_NE(r.output.find("last good checkpoint is step " + std::to_string(std::stoll(step))), std::string::npos) << r.output;
  auto model = load_llama(fixture("golden/gqa_default_rope"));
  load_parameters(*model, TensorStore::open_folder(point.dir), point.dir);  // refuses non-finite weights
}

// Too many skipped updates in a row end the run (exit 1) without writing final/; before the first
// checkpoint the message says there is none rather than naming step -1.
TEST(TrainNonFinite, TooManySkipsInARowStopTheRun) {
  TempDir dir;
  const auto config = write_run_config(dir);
  const auto r = run_safetune(train_args(config, dir / "run", "--set optim.lr=1e30 --set schedule.warmup_steps=0 "
                                         "--set train.max_steps=12 --set train.max_consecutive_skips=3 "
                                         "--set checkpoint.every_steps=0"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("4 updates in a row were skipped as non-finite (steps 2 to 5"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("No checkpoint was written yet"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("step -1"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "run/final"));
}

// trainer_state.json carries a format number; one this build does not know is refused, never half read,
// and a format-1 state (the sampled baseline under its old key) still loads.
TEST(TrainCheckpoint, StateFormatIsChecked) {
  json state{{"format", 2}, {"step", 3}, {"cursor", {{"epoch", 0}, {"index", 3}}}, {"penalty_estimator", {{"baseline", 0.5}}}};
  EXPECT_EQ(TrainingState::from_json(state, "s.json").penalty_state["baseline"], 0.5);
  state["format"] = 99;
  test::expect_error([&] { TrainingState::from_json(state, "s.json"); }, ExitCode::bad_input,
                     "s.json: trainer state format 99 is not one this safetune reads (1 to 2)");
  state["format"] = "two";
  test::expect_error([&] { TrainingState::from_json(state, "s.json"); }, ExitCode::bad_input, "trainer state format \"two\"");
  json old{{"format", 1}, {"step", 3}, {"cursor", {{"epoch", 0}, {"index", 3}}}, {"penalty_baseline", 0.25}};
  EXPECT_EQ(TrainingState::from_json(old, "s.json").penalty_state["baseline"], 0.25);
  EXPECT_EQ(TrainingState().to_json()["format"], 2);
}

// An output folder that is, or lies inside, the model folder would overwrite what the run reads: refused
// with exit 2 before anything is written.
TEST(TrainRunFolder, AnOutputOverlappingAnInputIsRefusedBeforeWriting) {
  TempDir dir;
  const auto config = write_run_config(dir);
  const auto model = dir / "model";
  fs::copy(fixture("golden/gqa_default_rope"), model, fs::copy_options::recursive);
  const std::string before = read_text_file(model + "/config.json");
  for (const auto& out : {model, model + "/run"}) {
    const auto r = run_safetune(train_args(config, out, "--set model.path=" + shell_quote(model)));
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("overlaps the input model.path"), std::string::npos) << r.output;
  }
  EXPECT_EQ(read_text_file(model + "/config.json"), before);
  EXPECT_FALSE(fs::exists(model + "/run"));
  EXPECT_FALSE(fs::exists(model + "/metrics.jsonl"));
}

// The config a run starts from may live in its run folder, but a fresh run must not rewrite it there.
TEST(TrainRunFolder, AFreshRunNeverRewritesTheConfigItWasGiven) {
  TempDir dir;
  const auto out = dir / "run";
  fs::create_directories(out);
  fs::copy_file(write_run_config(dir), out + "/config.json");
  const std::string before = read_text_file(out + "/config.json");
  const auto r = run_safetune("train --config " + shell_quote(out + "/config.json") + " --set train.output_dir=" + shell_quote(out));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("is the run folder's own config.json"), std::string::npos) << r.output;
  EXPECT_EQ(read_text_file(out + "/config.json"), before);
}

// One writer per run folder: a second run on a locked folder exits 2 naming the holder; once the holder is
// gone (its descriptor closed, as when a process dies) the folder is free again.
TEST(TrainRunFolder, ASecondWriterIsRefusedWithTheHoldersPid) {
  TempDir dir;
  const auto config = write_run_config(dir);
  const auto out = dir / "run";
  fs::create_directories(out);
  const int fd = ::open((out + "/.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  ASSERT_EQ(::write(fd, "4242\n", 5), 5);
  auto r = run_safetune(train_args(config, out, "--set train.max_steps=1"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("in use by another safetune process (pid 4242)"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out + "/metrics.jsonl"));
  ::close(fd);
  r = run_safetune(train_args(config, out, "--set train.max_steps=1"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

// Checkpoints exist but none verifies: --resume auto refuses (exit 2, listing them) instead of silently
// starting over; --resume restart starts over and sets the old checkpoints and metrics aside.
TEST(TrainResume, NoUsableCheckpointNeedsAnExplicitRestart) {
  TempDir dir;
  const auto config = write_run_config(dir);
  const auto out = dir / "run";
  ASSERT_EQ(run_safetune(train_args(config, out, "--set train.stop_at_step=4")).exit_code, 75);
  fs::remove(fs::path(CheckpointPaths::step_dir(out, 4)) / "COMPLETE");
  const std::string metrics = read_text_file(out + "/metrics.jsonl");
  auto r = run_safetune(train_args(config, out));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("none of its 1 checkpoint(s) can be resumed: step-00000004: no COMPLETE marker"), std::string::npos) << r.output;
  EXPECT_EQ(read_text_file(out + "/metrics.jsonl"), metrics);
  EXPECT_TRUE(fs::exists(CheckpointPaths::step_dir(out, 4)));
  write_text_file_atomic(out + "/incidents.jsonl", "{\"type\":\"incident\",\"at_step\":3}\n");  // as the gate writes one
  r = run_safetune(train_args(config, out, "--resume restart --set train.max_steps=2"));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_text_file(out + "/metrics.abandoned-1.jsonl"), metrics);
  EXPECT_TRUE(fs::exists(out + "/checkpoints.abandoned-1/step-00000004"));
  // Everything else the first attempt wrote about itself goes aside too: the report reads only the new one's.
  EXPECT_TRUE(fs::exists(out + "/incidents.abandoned-1.jsonl"));
  EXPECT_FALSE(fs::exists(out + "/incidents.jsonl"));
  EXPECT_TRUE(fs::exists(out + "/evaluations.abandoned-1/step-00000000.json"));
  EXPECT_TRUE(fs::exists(out + "/evaluations/step-00000002.json"));
  EXPECT_TRUE(fs::exists(out + "/final/model.safetensors"));
}

// A signal while the run is still setting up (here: reading a large data file) stops it cleanly with exit
// 75 and says what it was doing, instead of killing it.
TEST(TrainSignals, SigtermDuringSetUpStopsCleanly) {
  TempDir dir;
  const auto data = dir / "big.jsonl";
  {
    std::ofstream f(data);
    for (int i = 0; i < 1000000; ++i) f << R"({"prompt": "What is )" << i << R"( plus 1?", "completion": "It is )" << i + 1 << R"(."})" << "\n";
  }
  const auto config = write_run_config(dir);
  const pid_t pid = spawn_safetune({"train", "--config", config, "--set", "data.train=" + data}, dir / "log");
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past start-up, well inside reading 1M records
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit_code(pid), 75) << read_text_file(dir / "log");
  EXPECT_NE(read_text_file(dir / "log").find("stopped by signal 15 while"), std::string::npos) << read_text_file(dir / "log");
  EXPECT_FALSE(fs::exists(dir / "run/checkpoints"));
}

// SIGTERM to a sweep reaches its training child, which checkpoints and exits 75; the sweep waits for it and
// exits 75 too, so nothing trains on unobserved and the same command resumes.
TEST(SweepSignals, SigtermStopsTheChildAndTheSweepExits75) {
  TempDir dir;
  const auto config = write_run_config(dir);
  const pid_t pid = spawn_safetune({"sweep", "--config", config, "--grid", "optim.lr=1e-3,2e-3", "--set", "train.max_steps=100000",
                                    "--set", "checkpoint.every_steps=0"}, dir / "log");
  const fs::path metrics = dir / "run.optim.lr=1e-3/metrics.jsonl";
  for (int i = 0; i < 400 && (!fs::exists(metrics) || fs::file_size(metrics) == 0); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ::kill(pid, SIGTERM);
  EXPECT_EQ(wait_exit_code(pid), 75) << read_text_file(dir / "log");
  EXPECT_NE(read_text_file(dir / "log").find("stopped (signal 15)"), std::string::npos) << read_text_file(dir / "log");
  // The child is gone: its run folder's lock is free.
  const int fd = ::open((dir / "run.optim.lr=1e-3/.lock").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
  ::close(fd);
  EXPECT_FALSE(find_resume_checkpoint(dir / "run.optim.lr=1e-3").dir.empty());
  EXPECT_FALSE(fs::exists(dir / "run.optim.lr=2e-3"));
}

}  // namespace
}  // namespace st
