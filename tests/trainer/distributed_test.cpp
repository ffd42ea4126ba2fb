// tests/trainer/distributed_test.cpp — data-parallel training on c10d's Gloo, two processes on loopback: the
// same maths as one process with twice the accumulation, stop/resume (same and another process count), a
// killed rank, processes that disagree, and a bad launch environment. The processes are started here with
// the environment torchrun sets, and by torchrun itself where the full torch environment is installed.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <set>

#include "common/files.h"
#include "models/safetensors.h"
#include "tests/test_util.h"
#include "trainer/c10d_communicator.h"
#include "trainer/checkpoint.h"
#include "trainer/flat_shard.h"
#include "trainer/gradient_buckets.h"
#include "models/model_folder.h"

namespace st {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using test::fixture;
using test::run_command;
using test::shell_quote;
using test::TempDir;

// A port nobody listens on right now, for the rendezvous store.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// 8 steps of 4 micro-batches of 3 examples from the golden model, with refusal mixing (2 per micro-batch)
// and validation CE every 4 steps: a step is 4 micro-batches whatever the process count.
std::string write_config(const TempDir& dir) {
  const auto path = dir / "run.json";
  write_text_file_atomic(path, fmt::format(R"({{
  "model": {{"path": "{}", "device": "cpu"}},
  "data": {{"train": "{}", "validation": "{}", "max_seq_len": 64}},
  "train": {{"output_dir": "{}", "max_steps": 8, "batch_size": 3, "grad_accum": 4, "seed": 5, "distributed_timeout_s": 60}},
  "optim": {{"lr": 2e-3, "weight_decay": 0.01}},
  "schedule": {{"type": "cosine", "warmup_steps": 2}},
  "checkpoint": {{"every_steps": 4, "keep_last": 3}},
  "eval": {{"every_steps": 4}},
  "safety": {{"mix": {{"pool": "{}", "strategy": "stratified", "budget": 12, "per_batch": 2}}}},
  "log": {{"every_steps": 1, "progress": "never"}}
}})", fixture("golden/gqa_default_rope"), fixture("train/train.jsonl"), fixture("train/validation.jsonl"), dir / "unused",
                                           fixture("safety/pool.jsonl")));
  return path;
}

std::string train_command(const std::string& config, const std::string& out, const std::string& extra) {
  return std::string(SAFETUNE_BIN) + " train --config " + shell_quote(config) + " --set train.output_dir=" + shell_quote(out) +
         " " + extra;
}

// Both ranks of a two-process run, started the way torchrun starts them; prints "exit <rank0> <rank1>".
// `extra[r]` is added to rank r's command line.
test::CommandResult run_two(const std::string& config, const std::string& out, const std::string& extra,
                            const std::string& rank1_extra = "") {
  const std::string env = fmt::format("WORLD_SIZE=2 LOCAL_WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT={}", free_port());
  const std::string script =
      fmt::format("{} RANK=1 LOCAL_RANK=1 {} & p1=$!; {} RANK=0 LOCAL_RANK=0 {}; e0=$?; wait $p1; e1=$?; echo \"exit $e0 $e1\"",
                  env, train_command(config, out, extra + " " + rank1_extra), env, train_command(config, out, extra));
  return run_command("timeout 300 bash -c " + shell_quote(script));
}

std::string exits(int rank0, int rank1) { return fmt::format("exit {} {}", rank0, rank1); }

// max |a - b| over every tensor of two final model folders.
double max_weight_diff(const std::string& run_a, const std::string& run_b) {
  const auto a = TensorStore::open_file((fs::path(run_a) / "final" / "model.safetensors").string());
  const auto b = TensorStore::open_file((fs::path(run_b) / "final" / "model.safetensors").string());
  double worst = 0;
  for (const auto& [name, _] : a.entries()) worst = std::max(worst, (a.tensor(name) - b.tensor(name)).abs().max().item<double>());
  return worst;
}

// Two records compared key by key (nested ones too, as an incident's evaluation): numbers equal to 6
// significant digits, everything else exactly.
void expect_records_match(const json& a, const json& b, const std::string& where) {
  for (const auto& [key, value] : a.items()) {
    if (key == "comm_s" || key == "comm_share") continue;
    ASSERT_TRUE(b.contains(key)) << where << " lacks " << key;
    if (value.is_object()) {
      expect_records_match(value, b[key], where + " " + key);
    } else if (value.is_number_float()) {
      const double x = value.get<double>(), y = b[key].get<double>();
      EXPECT_LE(std::abs(x - y), 1e-6 * std::max(1.0, std::abs(x))) << where << " " << key << ": " << x << " vs " << y;
    } else {
      EXPECT_EQ(value, b[key]) << where << " " << key;
    }
  }
}

// Train, eval and incident rows of two runs, line by line.
void expect_metrics_match(const std::string& run_a, const std::string& run_b) {
  const auto a = test::deterministic_metrics(run_a), b = test::deterministic_metrics(run_b);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) expect_records_match(a[i], b[i], fmt::format("metrics line {}", i));
}

TEST(DataParallel, TwoProcessesEqualOneWithTwiceTheAccumulation) {
  TempDir dir;
  const auto config = write_config(dir);
  auto one = run_command(train_command(config, dir / "one", ""));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  auto two = run_two(config, dir / "two", "--set train.grad_accum=2");
  ASSERT_NE(two.output.find(exits(0, 0)), std::string::npos) << two.output;
  const double diff = max_weight_diff(dir / "one", dir / "two");
  std::printf("[data-parallel] 2 Gloo processes x accumulation 2 vs 1 process x 4, 8 steps: max |weight diff| %.3e (tol 1e-6)\n", diff);
  EXPECT_LE(diff, 1e-6);
  expect_metrics_match(dir / "one", dir / "two");
  const auto manifest = json::parse(read_text_file(dir / "two/manifest.json"));
  EXPECT_EQ(manifest["processes"], 2);
  EXPECT_EQ(manifest["communicator"], "gloo, 2 processes");
  const auto rows = test::read_jsonl_file(dir / "two/metrics.jsonl");
  ASSERT_GE(rows.size(), 2u);
  EXPECT_TRUE(rows[1].contains("comm_s")) << rows[1].dump();  // rows[0] is the evaluation before training
  EXPECT_NE(two.output.find("data-parallel: gloo, 2 processes, rank 0 of 2 (local 0 of 2), store 127.0.0.1:"), std::string::npos)
      << two.output;
  // Only the primary printed: one summary line, not two.
  EXPECT_EQ(two.output.find("train: done"), two.output.rfind("train: done")) << two.output;
}

// The safety parts under two processes: the adaptive λ controller reads the all-reduced P(toxic) of the
// classifier penalty, and the gate (rank 0 evaluates) trips, rolls both processes back and scales λ the same
// way, so the run equals one process with twice the accumulation, incidents included.
TEST(DataParallel, ClassifierPenaltyAdaptiveLambdaAndGateEqualOneProcess) {
  TempDir dir;
  test::train_classifier(dir.str(), fixture("golden/gqa_default_rope/tokenizer.model"));
  const auto config = write_config(dir);
  const std::string safety =
      "--set data.train=" + shell_quote(fixture("safety/toxic_task.jsonl")) + " --set optim.lr=2e-2 --set safety.classifier=" +
      shell_quote(dir / "classifier") +
      " --set 'safety.lambda={\"type\":\"adaptive\",\"initial\":1,\"target\":0.005,\"lr\":0.5,\"window\":2,\"max\":100}'" +
      " --set eval.every_steps=2 --set eval.max_new_tokens=8 --set eval.harmful=" + shell_quote(fixture("safety/harmful_eval.jsonl")) +
      " --set gate.enabled=true --set gate.noise=none --set gate.max_toxicity_rate=0.5 --set gate.max_incidents=10";
  auto one = run_command(train_command(config, dir / "one", safety));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  auto two = run_two(config, dir / "two", safety + " --set train.grad_accum=2");
  ASSERT_NE(two.output.find(exits(0, 0)), std::string::npos) << two.output;
  int incidents = 0;
  std::set<double> lambdas;
  for (const auto& row : test::read_jsonl_file(dir / "two/metrics.jsonl")) {
    incidents += row["type"] == "incident";
    if (row["type"] == "train") lambdas.insert(row["lambda"].get<double>());
  }
  const double diff = max_weight_diff(dir / "one", dir / "two");
  std::printf("[data-parallel] adaptive λ + gate, 2 processes vs 1: %d incidents, %zu distinct λ, max |weight diff| %.3e (tol 1e-6)\n",
              incidents, lambdas.size(), diff);
  EXPECT_GE(incidents, 2);        // the gate tripped and rolled back
  EXPECT_GE(lambdas.size(), 4u);  // and the controller moved λ
  EXPECT_LE(diff, 1e-6);
  expect_metrics_match(dir / "one", dir / "two");
  EXPECT_EQ(test::read_jsonl_file(dir / "one/incidents.jsonl").size(), test::read_jsonl_file(dir / "two/incidents.jsonl").size());
}

TEST(DataParallel, StopAndResumeIsBitExactAndMayChangeTheProcessCount) {
  TempDir dir;
  const auto config = write_config(dir);
  auto straight = run_two(config, dir / "straight", "--set train.grad_accum=2");
  ASSERT_NE(straight.output.find(exits(0, 0)), std::string::npos) << straight.output;
  // Stopped at step 3 (between checkpoints) and resumed by two processes: the same bytes.
  auto r = run_two(config, dir / "stopped", "--set train.grad_accum=2 --set train.stop_at_step=3");
  ASSERT_NE(r.output.find(exits(75, 75)), std::string::npos) << r.output;
  EXPECT_FALSE(verify_checkpoint(CheckpointPaths::step_dir(dir / "stopped", 3)).has_value());
  r = run_two(config, dir / "stopped", "--set train.grad_accum=2");
  ASSERT_NE(r.output.find(exits(0, 0)), std::string::npos) << r.output;
  EXPECT_EQ(test::final_weights(dir / "straight"), test::final_weights(dir / "stopped"));
  EXPECT_EQ(test::deterministic_metrics(dir / "straight").size(), test::deterministic_metrics(dir / "stopped").size());
  // Stopped by two processes, finished by one with the same global batch (accumulation 4): the data cursor
  // is global, so no example is repeated or skipped and the result matches within float rounding.
  r = run_two(config, dir / "changed", "--set train.grad_accum=2 --set train.stop_at_step=5");
  ASSERT_NE(r.output.find(exits(75, 75)), std::string::npos) << r.output;
  r = run_command(train_command(config, dir / "changed", "--set train.grad_accum=2"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("this run takes 4 micro-batches per step, and 1 process × train.grad_accum=2 make 2; set "
                          "train.grad_accum=4 to resume it with 1 process"), std::string::npos) << r.output;
  r = run_command(train_command(config, dir / "changed", "--set train.grad_accum=4"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const double diff = max_weight_diff(dir / "straight", dir / "changed");
  std::printf("[data-parallel] stopped by 2 processes, resumed by 1: max |weight diff| %.3e (tol 1e-6)\n", diff);
  EXPECT_LE(diff, 1e-6);
  expect_metrics_match(dir / "straight", dir / "changed");
}

// Each process draws LoRA dropout from its own generator; every one of them is in the checkpoint, so a
// stopped and resumed run is bit-exact (sharded moments included).
TEST(DataParallel, LoraWithDropoutResumesBitExactly) {
  TempDir dir;
  const auto config = write_config(dir);
  const std::string lora = "--set train.grad_accum=2 --set lora.enabled=true --set lora.r=4 --set lora.dropout=0.2 "
                           "--set train.shard_optimizer=true --set optim.lr=1e-2";
  auto r = run_two(config, dir / "straight", lora);
  ASSERT_NE(r.output.find(exits(0, 0)), std::string::npos) << r.output;
  r = run_two(config, dir / "stopped", lora + " --set train.stop_at_step=3");
  ASSERT_NE(r.output.find(exits(75, 75)), std::string::npos) << r.output;
  r = run_two(config, dir / "stopped", lora);
  ASSERT_NE(r.output.find(exits(0, 0)), std::string::npos) << r.output;
  const auto adapter = [&](const std::string& run) { return read_text_file(fs::path(run) / "final" / "adapter_model.safetensors"); };
  EXPECT_EQ(adapter(dir / "straight"), adapter(dir / "stopped"));
  EXPECT_EQ(test::deterministic_metrics(dir / "straight"), test::deterministic_metrics(dir / "stopped"));
}

TEST(DataParallel, ShardedOptimizerStateEqualsUnshardedAndHalvesItsMemory) {
  TempDir dir;
  const auto config = write_config(dir);
  auto r = run_command(train_command(config, dir / "one", ""));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string sharded = "--set train.grad_accum=2 --set train.shard_optimizer=true";
  r = run_two(config, dir / "sharded", sharded);
  ASSERT_NE(r.output.find(exits(0, 0)), std::string::npos) << r.output;
  const double diff = max_weight_diff(dir / "one", dir / "sharded");
  const auto one = json::parse(read_text_file(dir / "one/manifest.json"));
  const auto two = json::parse(read_text_file(dir / "sharded/manifest.json"));
  const double mb_one = one["optimizer"]["state_mb_per_process"], mb_two = two["optimizer"]["state_mb_per_process"];
  std::printf("[data-parallel] sharded AdamW state over 2 processes vs 1 process: max |weight diff| %.3e (tol 1e-6); "
              "moments per process %.3f MB vs %.3f MB\n", diff, mb_two, mb_one);
  EXPECT_LE(diff, 1e-6);
  expect_metrics_match(dir / "one", dir / "sharded");
  EXPECT_TRUE(two["optimizer"]["sharded"].get<bool>());
  EXPECT_NEAR(mb_two, mb_one / 2, 1e-3);
  // A sharded run stopped and resumed is bit-exact; its checkpoints hold the whole state, so a resume may
  // also switch sharding off.
  r = run_two(config, dir / "stopped", sharded + " --set train.stop_at_step=3");
  ASSERT_NE(r.output.find(exits(75, 75)), std::string::npos) << r.output;
  r = run_two(config, dir / "stopped", sharded);
  ASSERT_NE(r.output.find(exits(0, 0)), std::string::npos) << r.output;
  EXPECT_EQ(test::final_weights(dir / "sharded"), test::final_weights(dir / "stopped"));
  r = run_two(config, dir / "unsharded", sharded + " --set train.stop_at_step=3");
  ASSERT_NE(r.output.find(exits(75, 75)), std::string::npos) << r.output;
  r = run_two(config, dir / "unsharded", "--set train.grad_accum=2");
  ASSERT_NE(r.output.find(exits(0, 0)), std::string::npos) << r.output;
  EXPECT_LE(max_weight_diff(dir / "sharded", dir / "unsharded"), 1e-6);
}

TEST(DataParallel, FlatShardsCoverEveryElementOnce) {
  NamedTensors params{{"a", torch::zeros({3, 4})}, {"b", torch::zeros({5})}, {"c", torch::zeros({2, 2})}};  // 21 elements
  for (int world : {1, 2, 3, 4, 8}) {
    std::vector<int> seen(21, 0);
    for (int rank = 0; rank < world; ++rank) {
      const auto shard = FlatShard::of(params, rank, world);
      EXPECT_EQ(shard.per_rank, (21 + world - 1) / world);
      int64_t start_of[] = {0, 12, 17};
      for (const auto& s : shard.segments) {
        EXPECT_LE(s.slice_offset + s.length, shard.per_rank);
        for (int64_t e = 0; e < s.length; ++e) {
          const int64_t flat = start_of[s.param] + s.offset + e;
          EXPECT_EQ(flat, shard.begin + s.slice_offset + e);
          seen[flat] += 1;
        }
      }
    }
    for (int e = 0; e < 21; ++e) EXPECT_EQ(seen[e], 1) << "world " << world << " element " << e;
  }
}

// 400 steps by two processes in the background; once rank 0 has logged step 5 (after the step-4
// checkpoint), `signal` goes to rank 1. Prints "exit <rank0> <rank1>".
test::CommandResult run_two_and_signal_rank1(const std::string& config, const std::string& out, const std::string& signal) {
  const std::string env = fmt::format("WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT={}", free_port());
  const std::string script = fmt::format(
      "{env} RANK=1 {cmd} & p1=$!; {env} RANK=0 {cmd} & p0=$!; "
      "while ! grep -q '\"step\":5,' {metrics} 2>/dev/null; do sleep 0.05; done; kill -{signal} $p1; "
      "wait $p0; e0=$?; wait $p1; e1=$?; echo \"exit $e0 $e1\"",
      fmt::arg("env", env), fmt::arg("cmd", train_command(config, out, "--set train.grad_accum=2 --set train.max_steps=400")),
      fmt::arg("metrics", shell_quote(out + "/metrics.jsonl")), fmt::arg("signal", signal));
  return run_command("timeout 200 bash -c " + shell_quote(script));
}

// A stand-in for a second process holding the same gradients: "summing" doubles a bucket. It records
// when each bucket was started, to show the reduction overlaps the backward.
class DoublingCommunicator : public SingleProcess {
 public:
  std::unique_ptr<Pending> start_all_reduce_sum(const torch::Tensor& tensor) override {
    started.push_back({tensor.data_ptr<float>() - base, tensor.numel()});
    tensor.mul_(2);
    return SingleProcess::start_all_reduce_sum(tensor);
  }
  const float* base = nullptr;
  std::vector<std::pair<int64_t, int64_t>> started;  // first element, elements
};

TEST(DataParallel, GradientBucketsStartInOrderDuringTheLastBackward) {
  auto model = load_llama(fixture("golden/gqa_default_rope"));
  NamedTensors params;
  int64_t total = 0;
  for (auto& item : model->named_parameters()) params.emplace_back(item.key(), item.value()), total += item.value().numel();
  auto buffer = torch::zeros({total});
  int64_t start = 0;
  for (auto& [_, p] : params) p.mutable_grad() = buffer.narrow(0, start, p.numel()).view(p.sizes()), start += p.numel();
  DoublingCommunicator comm;
  comm.base = buffer.data_ptr<float>();
  auto buckets = GradientBuckets::attach(params, buffer, comm, /*bucket_elements=*/4000);
  const auto ids = torch::randint(/*high=*/100, {2, 9}, torch::kInt64);
  auto loss = [&] { return model(ids).logsumexp(/*dim=*/-1).mean(); };
  loss().backward();  // an earlier micro-batch: nothing starts
  EXPECT_TRUE(comm.started.empty());
  const auto once = buffer.clone();
  buckets->arm();
  loss().backward();
  const size_t during_backward = comm.started.size();
  buckets->finish();
  // Every element once, from the last parameters back, contiguous buckets in order.
  ASSERT_GE(comm.started.size(), 3u);
  int64_t end = total;
  for (const auto& [first, elements] : comm.started) {
    EXPECT_EQ(first + elements, end);
    end = first;
  }
  EXPECT_EQ(end, 0);
  EXPECT_GT(during_backward, 0u) << "no bucket started before the backward finished";
  std::printf("[data-parallel] %zu buckets, %zu started during the last backward\n", comm.started.size(), during_backward);
  EXPECT_TRUE(torch::allclose(buffer, 4 * once, /*rtol=*/1e-6, /*atol=*/1e-7));  // (g + g) summed over "2 processes"
}

TEST(DataParallel, KilledRankFailsTheOtherAndKeepsTheLastCheckpoint) {
  TempDir dir;
  const auto out = dir / "run";
  const auto started = std::chrono::steady_clock::now();
  const auto r = run_two_and_signal_rank1(write_config(dir), out, "KILL");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_NE(r.output.find(exits(1, 137)), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("data-parallel"), std::string::npos) << r.output;
  EXPECT_LT(seconds, 60) << "rank 0 must fail soon after its peer died, not wait out the collective timeout";
  EXPECT_FALSE(verify_checkpoint(CheckpointPaths::step_dir(out, 4)).has_value());
  EXPECT_EQ(find_resume_checkpoint(out).dir, CheckpointPaths::step_dir(out, 4));
}

// SIGTERM reaches rank 1 alone (a launcher forwards it to all, at slightly different moments): the
// processes agree after each step, so both stop after the same one with one checkpoint and exit 75.
TEST(DataParallel, SignalToOneRankStopsEveryRankAfterTheSameStep) {
  TempDir dir;
  const auto out = dir / "run";
  const auto r = run_two_and_signal_rank1(write_config(dir), out, "TERM");
  ASSERT_NE(r.output.find(exits(75, 75)), std::string::npos) << r.output;
  const auto resume = find_resume_checkpoint(out);
  ASSERT_FALSE(resume.dir.empty());
  const auto state = json::parse(read_text_file(fs::path(resume.dir) / "trainer_state.json"));
  EXPECT_GE(state["step"].get<int64_t>(), 5);
  EXPECT_EQ(state["micro_batches_per_step"], 4);
  EXPECT_NE(r.output.find(fmt::format("stopped (a stop signal to another process of the run) at step {}", state["step"].get<int64_t>())), std::string::npos) << r.output;
}

TEST(DataParallel, ProcessesThatDisagreeAreRefused) {
  TempDir dir;
  const auto config = write_config(dir);
  auto r = run_two(config, dir / "run", "--set train.grad_accum=2", "--set optim.lr=1e-3");
  EXPECT_NE(r.output.find(exits(2, 2)), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("rank 1 has a different config.optim.lr from rank 0 (0.001 vs 0.002)"), std::string::npos) << r.output;
}

TEST(DataParallel, BadLaunchEnvironmentExits2) {
  TempDir dir;
  const auto config = write_config(dir);
  const auto cmd = train_command(config, dir / "run", "--set train.distributed_timeout_s=2");
  const std::pair<std::string, std::string> cases[] = {
      {"WORLD_SIZE=2 RANK=0", "MASTER_ADDR is not set"},
      {"WORLD_SIZE=2 RANK=two MASTER_ADDR=127.0.0.1 MASTER_PORT=1", "RANK='two' is not an integer from 0 to 1"},
      {"WORLD_SIZE=2 RANK=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=1", "RANK='2' is not an integer from 0 to 1"},
      {fmt::format("WORLD_SIZE=2 RANK=1 MASTER_ADDR=127.0.0.1 MASTER_PORT={}", free_port()),
       "rank 1 could not reach the store at MASTER_ADDR=127.0.0.1 MASTER_PORT="},
  };
  for (const auto& [env, message] : cases) {
    const auto r = run_command("env " + env + " " + cmd);
    EXPECT_EQ(r.exit_code, 2) << env << "\n" << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << env << "\n" << r.output;
  }
  // NCCL connects GPUs: asked for on a CPU run, it is refused before any rendezvous.
  const auto r = run_command("env WORLD_SIZE=2 RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=1 " + cmd +
                             " --set train.distributed_backend=nccl");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("train.distributed_backend is 'nccl' but this process trains on the CPU"), std::string::npos) << r.output;
}

TEST(DataParallel, BackendFollowsTheDevice) {
  EXPECT_EQ(resolve_backend(DistributedBackend::Auto, torch::kCPU), DistributedBackend::Gloo);
  EXPECT_EQ(resolve_backend(DistributedBackend::Gloo, torch::Device(torch::kCUDA, 0)), DistributedBackend::Gloo);
#ifdef SAFETUNE_WITH_NCCL
  EXPECT_EQ(resolve_backend(DistributedBackend::Auto, torch::Device(torch::kCUDA, 1)), DistributedBackend::Nccl);
#else
  EXPECT_THROW(resolve_backend(DistributedBackend::Auto, torch::Device(torch::kCUDA, 1)), std::exception);
#endif
}

TEST(DataParallel, TorchrunLaunchesTheProcesses) {
  const auto python = test::venv_python_with("torch.distributed.run");
  if (python.empty()) GTEST_SKIP() << "needs the full environment (scripts/setup --full) for torchrun";
  TempDir dir;
  const auto config = write_config(dir);
  auto one = run_command(train_command(config, dir / "one", ""));
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const auto r = run_command(fmt::format("timeout 300 {} -m torch.distributed.run --nproc-per-node 2 --master-port {} --no-python {}",
                                         shell_quote(python), free_port(), train_command(config, dir / "two", "--set train.grad_accum=2")));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_LE(max_weight_diff(dir / "one", dir / "two"), 1e-6);
  expect_metrics_match(dir / "one", dir / "two");
}

}  // namespace
}  // namespace st
