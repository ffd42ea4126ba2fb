// trainer/checkpoint.cpp — atomic checkpoint folders, verification, resume selection, pruning.
#include "trainer/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/core/Generator.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "common/check.h"
#include "common/files.h"
#include "common/json_file.h"
#include "common/sha256.h"
#include "models/model_folder.h"

namespace st {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
constexpr const char* kComplete = "COMPLETE";
constexpr const char* kOptimizerFile = "optimizer.safetensors";
constexpr const char* kStateFile = "trainer_state.json";
constexpr const char* kRngTensor = "rng.cpu";  // the primary process's; rng.cpu.rank<r> the others'

std::string rng_tensor_name(int rank) { return rank == 0 ? std::string(kRngTensor) : fmt::format("{}.rank{}", kRngTensor, rank); }
// trainer_state.json's format: 1 kept the sampled estimator's baseline as "penalty_baseline"; 2 keeps each
// estimator's state under "penalty_estimator". A newer format is refused rather than half read.
constexpr int64_t kStateFormat = 2;

std::optional<int64_t> step_of(const fs::path& dir) {
  const std::string name = dir.filename().string();
  if (name.rfind("step-", 0) != 0 || name.size() <= 5) return std::nullopt;
  try {
    size_t used = 0;
    const int64_t step = std::stoll(name.substr(5), &used);
    if (used == name.size() - 5) return step;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

// Checkpoint folders, newest first.
std::vector<fs::path> checkpoint_dirs(const std::string& run_dir) {
  std::vector<std::pair<int64_t, fs::path>> found;
  const fs::path root = CheckpointPaths::root(run_dir);
  if (!fs::is_directory(root)) return {};
  for (const auto& entry : fs::directory_iterator(root))
    if (auto step = step_of(entry.path()); step && entry.is_directory()) found.emplace_back(*step, entry.path());
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<fs::path> out;
  for (auto& [_, p] : found) out.push_back(p);
  return out;
}
// NaN ("not measured yet") is written as null and read back as NaN: JSON has no NaN.
json nan_as_null(double v) { return std::isnan(v) ? json(nullptr) : json(v); }
double null_as_nan(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : std::nan("");
}
}  // namespace

json TrainingState::to_json() const {
  return {{"format", kStateFormat},
          {"step", step},
          {"cursor", {{"epoch", cursor.epoch}, {"index", cursor.index}}},
          {"micro_batches_per_step", micro_batches_per_step},
          {"optimizer_steps", optimizer_steps},
          {"tokens_seen", tokens_seen},
          {"skipped_nonfinite", skipped_nonfinite},
          {"consecutive_skips", consecutive_skips},
          {"elapsed_s", elapsed_s},
          {"lambda", lambda},
          {"lambda_state", lambda_state},
          {"safety_draws", safety_draws},
          {"penalty_estimator", penalty_state},
          {"lambda_scale", lambda_scale},
          {"incidents", incidents},
          {"baseline_refusal", nan_as_null(baseline_refusal)},
          {"last_passing_step", last_passing_step},
          {"best_step", best_step},
          {"best_value", nan_as_null(best_value)}};
}

TrainingState TrainingState::from_json(const json& j, const std::string& label) {
  TrainingState s;
  const bool has_format = j.is_object() && j.contains("format");
  const int64_t format = !j.is_object() ? 0 : !has_format ? 1 : j["format"].is_number_integer() ? j["format"].get<int64_t>() : 0;
  ST_CHECK_INPUT(format >= 1 && format <= kStateFormat,
                 "{}: trainer state format {} is not one this safetune reads (1 to {}); it was written by another "
                 "version", label, has_format ? json_excerpt(j["format"]) : "(none)", kStateFormat);
  // Integers are checked as JSON integers within ±1e18 before conversion: a float or 2^64 must not wrap.
  auto integer = [&](const json& node, const char* key, std::optional<int64_t> fallback) -> int64_t {
    if (!node.is_object() || !node.contains(key)) {
      if (fallback) return *fallback;
      fail_input("{}: malformed trainer state: no '{}'", label, key);
    }
    const json& v = node[key];
    ST_CHECK_INPUT(v.is_number_integer() && std::abs(v.get<double>()) <= 1e18, "{}: '{}' must be an integer, got {}",
                   label, key, json_excerpt(v));
    return v.get<int64_t>();
  };
  auto number = [&](const char* key, double fallback) {
    if (!j.contains(key)) return fallback;
    ST_CHECK_INPUT(j[key].is_number(), "{}: '{}' must be a number, got {}", label, key, json_excerpt(j[key]));
    return j[key].get<double>();
  };
  auto object = [&](const char* key) {
    if (!j.contains(key)) return json::object();
    ST_CHECK_INPUT(j[key].is_object(), "{}: '{}' must be an object, got {}", label, key, json_excerpt(j[key]));
    return j[key];
  };
  s.step = integer(j, "step", std::nullopt);
  const json cursor = j.contains("cursor") ? j["cursor"] : json();
  s.cursor.epoch = integer(cursor, "epoch", std::nullopt);
  s.cursor.index = integer(cursor, "index", std::nullopt);
  s.micro_batches_per_step = integer(j, "micro_batches_per_step", 0);
  s.optimizer_steps = integer(j, "optimizer_steps", s.step);
  s.tokens_seen = integer(j, "tokens_seen", 0);
  s.skipped_nonfinite = integer(j, "skipped_nonfinite", 0);
  s.consecutive_skips = integer(j, "consecutive_skips", 0);
  s.elapsed_s = number("elapsed_s", 0.0);
  s.lambda = number("lambda", 0.0);
  s.lambda_state = object("lambda_state");
  s.safety_draws = integer(j, "safety_draws", 0);
  s.penalty_state = format == 1 ? json{{"baseline", j.value("penalty_baseline", json(nullptr))}} : object("penalty_estimator");
  s.lambda_scale = number("lambda_scale", 1.0);
  s.incidents = integer(j, "incidents", 0);
  s.baseline_refusal = null_as_nan(j, "baseline_refusal");
  s.last_passing_step = integer(j, "last_passing_step", -1);
  s.best_step = integer(j, "best_step", -1);
  s.best_value = null_as_nan(j, "best_value");
  s.check_ranges(label);
  return s;
}

// A state file is data like any other: a forged or damaged value is refused by name, never trained from.
void TrainingState::check_ranges(const std::string& label) const {
  auto in = [&](const char* key, double v, double lo, double hi) {
    ST_CHECK_INPUT(std::isfinite(v) && v >= lo && v <= hi, "{}: '{}' = {} is out of range [{}, {}]", label, key, v, lo, hi);
  };
  const double steps = static_cast<double>(step);
  in("step", steps, 0, 1e9);
  in("cursor.epoch", static_cast<double>(cursor.epoch), 0, 1e9);
  in("cursor.index", static_cast<double>(cursor.index), 0, 1e12);
  in("micro_batches_per_step", static_cast<double>(micro_batches_per_step), 0, 1e12);
  in("optimizer_steps", static_cast<double>(optimizer_steps), 0, steps);
  in("tokens_seen", static_cast<double>(tokens_seen), 0, 1e18);
  in("skipped_nonfinite", static_cast<double>(skipped_nonfinite), 0, steps);
  in("consecutive_skips", static_cast<double>(consecutive_skips), 0, steps);
  in("elapsed_s", elapsed_s, 0, 1e12);
  in("lambda", lambda, 0, 1e12);
  in("safety_draws", static_cast<double>(safety_draws), 0, 1e18);
  in("lambda_scale", lambda_scale, 0, 1e12);
  in("incidents", static_cast<double>(incidents), 0, 1e6);
  in("last_passing_step", static_cast<double>(last_passing_step), -1, steps);
  in("best_step", static_cast<double>(best_step), -1, steps);
}

std::string CheckpointPaths::root(const std::string& run_dir) { return (fs::path(run_dir) / "checkpoints").string(); }
std::string CheckpointPaths::step_dir(const std::string& run_dir, int64_t step) {
  return (fs::path(root(run_dir)) / fmt::format("step-{:08d}", step)).string();
}

std::string write_checkpoint(const std::string& run_dir, LlamaForCausalLM& model, const TrainableParameters& trainable,
                             const NamedTensors& optimizer_state,
                             const TrainingState& state, const std::vector<NamedFile>& tokenizer_files, int64_t keep_last,
                             const std::vector<int64_t>& protect, const std::vector<std::string>& generators) {
  const fs::path root = CheckpointPaths::root(run_dir);
  const fs::path final_dir = CheckpointPaths::step_dir(run_dir, state.step);
  const fs::path tmp = root / fmt::format(".tmp-{}", final_dir.filename().string());
  fs::create_directories(root);
  fs::remove_all(tmp);
  fs::create_directories(tmp);

  // 1. payload files, each written atomically and fsynced
  trainable.save(tmp.string(), model, {torch::kFloat32, /*max_shard_bytes=*/0, tokenizer_files});
  NamedTensors opt = optimizer_state;
  const auto own = generators.empty() ? std::vector<std::string>{torch_generator_state()} : generators;
  for (size_t r = 0; r < own.size(); ++r) {
    const auto bytes = torch::from_blob(const_cast<char*>(own[r].data()), {static_cast<int64_t>(own[r].size())}, torch::kUInt8);
    opt.emplace_back(rng_tensor_name(static_cast<int>(r)), bytes.clone());
  }
  save_safetensors((tmp / kOptimizerFile).string(), opt, {{"format", "safetune-optimizer"}});
  write_text_file_atomic((tmp / kStateFile).string(), state.to_json().dump(2) + "\n");

  // 2. COMPLETE last, listing every file's checksum; then the folder is renamed into place
  json files = json::object();
  for (const auto& entry : fs::directory_iterator(tmp))
    files[entry.path().filename().string()] = sha256_file(entry.path().string());
  write_text_file_atomic((tmp / kComplete).string(), json{{"step", state.step}, {"sha256", files}}.dump(2) + "\n");
  fsync_directory(tmp.string());
  fs::remove_all(final_dir);  // a re-run of the same step after resume replaces the old copy
  fs::rename(tmp, final_dir);
  fsync_directory(root.string());
  write_text_file_atomic((root / "latest").string(), final_dir.filename().string() + "\n");

  // 3. prune: the newest keep_last complete checkpoints stay, plus stale temp folders go
  int64_t kept = 0;
  for (const auto& dir : checkpoint_dirs(run_dir)) {
    if (kept < keep_last && fs::exists(dir / kComplete)) {
      ++kept;
      continue;
    }
    if (std::find(protect.begin(), protect.end(), step_of(dir).value_or(-2)) != protect.end()) continue;
    if (step_of(dir) < step_of(final_dir)) fs::remove_all(dir);
  }
  for (const auto& entry : fs::directory_iterator(root))
    if (entry.path().filename().string().rfind(".tmp-", 0) == 0) fs::remove_all(entry.path());
  return final_dir.string();
}

void discard_checkpoints_after(const std::string& run_dir, int64_t step) {
  for (const auto& dir : checkpoint_dirs(run_dir))
    if (step_of(dir).value_or(-1) > step) fs::remove_all(dir);
  const fs::path root = CheckpointPaths::root(run_dir);
  write_text_file_atomic((root / "latest").string(), fs::path(CheckpointPaths::step_dir(run_dir, step)).filename().string() + "\n");
}

std::optional<std::string> verify_checkpoint(const std::string& dir) {
  const fs::path complete = fs::path(dir) / kComplete;
  if (!fs::exists(complete)) return std::string("no COMPLETE marker (interrupted while writing)");
  json j = json::parse(read_text_file(complete.string()), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.contains("sha256") || !j["sha256"].is_object()) return std::string("COMPLETE is malformed");
  for (const char* needed : {kOptimizerFile, kStateFile})
    if (!j["sha256"].contains(needed)) return fmt::format("COMPLETE does not list {}", needed);
  // A full fine-tune's checkpoint is a model folder, a LoRA run's an adapter folder.
  if (!(j["sha256"].contains("model.safetensors") && j["sha256"].contains("config.json")) &&
      !(j["sha256"].contains("adapter_model.safetensors") && j["sha256"].contains("adapter_config.json")))
    return std::string("COMPLETE lists neither model.safetensors and config.json nor an adapter's two files");
  for (const auto& [name, sum] : j["sha256"].items()) {
    const fs::path file = fs::path(dir) / name;
    if (!fs::exists(file)) return fmt::format("{} is missing", name);
    if (!sum.is_string() || sha256_file(file.string()) != sum.get<std::string>())
      return fmt::format("{} does not match its checksum (corrupt)", name);
  }
  return std::nullopt;
}

ResumePoint find_resume_checkpoint(const std::string& run_dir) {
  ResumePoint r;
  for (const auto& dir : checkpoint_dirs(run_dir)) {
    if (auto problem = verify_checkpoint(dir.string())) {
      r.skipped.push_back(fmt::format("{}: {}", dir.filename().string(), *problem));
      continue;
    }
    r.dir = dir.string();
    break;
  }
  return r;
}

std::string torch_generator_state() {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  const auto state = generator.get_state();  // [N] uint8
  return std::string(reinterpret_cast<const char*>(state.data_ptr<uint8_t>()), static_cast<size_t>(state.numel()));
}

TrainingState load_checkpoint(const std::string& dir, LlamaForCausalLM& model, const TrainableParameters& trainable,
                              AdamW& optimizer, int rank) {
  const auto state =
      TrainingState::from_json(read_json_file((fs::path(dir) / kStateFile).string()), dir + "/" + kStateFile);
  trainable.load(dir, model);
  const auto opt_path = (fs::path(dir) / kOptimizerFile).string();
  const auto opt_store = TensorStore::open_file(opt_path);
  optimizer.load_state(opt_store, state.optimizer_steps, opt_path);
  ST_CHECK_INPUT(opt_store.contains(kRngTensor), "{}: no '{}' tensor", opt_path, kRngTensor);
  // A process the checkpoint has no state for (a resume with more processes) keeps its fresh seed.
  if (opt_store.contains(rng_tensor_name(rank))) {
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(opt_store.tensor(rng_tensor_name(rank)).clone());
  }
  return state;
}

}  // namespace st
