// trainer/run_setup.cpp — TrainingRun's set-up: the data, the run folder (config, manifest, where to start),
// the model, its penalty estimator and optimizer, a checkpoint to continue from, the safety mix, and what the
// loop reads once.
#include <torch/cuda.h>
#include <torch/utils.h>
#include <torch/version.h>

#include <ATen/DeviceAccelerator.h>
#include <ATen/Parallel.h>
#include <ATen/Version.h>

#include <filesystem>
#include <functional>
#include <algorithm>
#include <set>

#include "common/check.h"
#include "common/files.h"
#include "common/folder_lock.h"
#include "common/json_file.h"
#include "common/provenance.h"
#include "common/rng.h"
#include "common/sha256.h"
#include "data/token_cache.h"
#include "models/model_folder.h"
#include "trainer/config.h"
#include "trainer/model_tokenizer.h"
#include "trainer/penalty_estimators.h"
#include "trainer/text_scorer.h"
#include "trainer/training_run.h"

namespace st {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// One input's SHA-256; a stop signal is honoured between files (hashing a large model takes a while).
std::string hash_input(const std::string& path) {
  check_stop("hashing the inputs");
  return sha256_file(path);
}

json hash_folder(const std::string& dir, const std::function<bool(const fs::path&)>& wanted) {
  json out = json::object();
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file() && wanted(entry.path())) out[entry.path().filename().string()] = hash_input(entry.path().string());
  return out;
}

// What checkpoints and final/ copy from the model folder besides the weights and config.json: the tokenizer
// files, and generation_config.json (the stop tokens and sampling defaults transformers' generate() reads).
std::vector<NamedFile> files_to_carry(const std::string& model_path) {
  auto files = tokenizer_files(model_path);
  const auto generation = fs::path(model_path) / "generation_config.json";
  if (fs::is_regular_file(generation)) files.push_back({generation.string(), "generation_config.json"});
  return files;
}

// Every file a run reads, with its SHA-256: what makes a run reproducible and a resume safe.
// `known`: files already hashed as they were read (the training data), not read again.
json input_hashes(const RunConfig& c, const std::map<std::string, std::string>& known) {
  json inputs = json::object();
  inputs["config"] = {{c.source, hash_input(c.source)}};
  json data = json::object();
  for (const auto* files : {&c.data.train, &c.data.validation})
    for (const auto& f : *files) data[f] = known.count(f) ? known.at(f) : hash_input(f);
  if (!c.safety.mix.pool.empty()) data[c.safety.mix.pool] = hash_input(c.safety.mix.pool);
  inputs["data"] = data;
  std::set<std::string> tokenizer_names;
  for (const auto& f : tokenizer_files(c.model.path)) tokenizer_names.insert(f.name);
  inputs["model"] = hash_folder(c.model.path, [&](const fs::path& p) {
    return p.extension() == ".safetensors" || p.extension() == ".json" || tokenizer_names.count(p.filename().string()) > 0;
  });
  inputs["classifier"] = c.safety.classifier.empty() ? json::object()
                                                     : hash_folder(c.safety.classifier, [](const fs::path&) { return true; });
  if (!c.safety.harm_judge.model.empty())
    inputs["harm_judge"] = hash_folder(c.safety.harm_judge.model, [](const fs::path&) { return true; });
  return inputs;
}

// The evaluation prompt files, by SHA-256: not part of `inputs` (a resume may change them), but what the
// run's safety numbers were measured on.
json eval_input_hashes(const RunConfig& c) {
  json files = json::object();
  for (const auto* file : {&c.eval.harmful, &c.eval.benign})
    if (!file->empty()) files[*file] = hash_input(*file);
  return files;
}

// The base model's identity for adapter checkpoints: its weights and config.json, by name and SHA-256.
std::string base_model_sha256(const json& inputs) {
  std::string listing;
  for (const auto& [name, sum] : inputs.at("model").items())
    if (name == "config.json" || fs::path(name).extension() == ".safetensors") listing += name + " " + sum.get<std::string>() + "\n";
  return sha256_hex(listing);
}

// A resume must see the same model, data and batching; more steps or another LR are fine.
// The files whose hash differs between two {file: sha256} maps, each as the user knows it.
std::vector<std::string> changed_files(const json& before, const json& now) {
  std::vector<std::string> out;
  if (!before.is_object()) return {"(the manifest's list is damaged)"};
  for (const auto& [file, sum] : now.items())
    if (!before.contains(file)) out.push_back(file + " (new)");
    else if (before[file] != sum) out.push_back(file);
  for (const auto& [file, _] : before.items())
    if (!now.contains(file)) out.push_back(file + " (gone)");
  return out;
}

void check_resume_compatible(const std::string& run_dir, const Config& resolved, const json& inputs) {
  const fs::path saved_config = fs::path(run_dir) / "config.json";
  ST_CHECK_INPUT(fs::exists(saved_config), "{}: checkpoint found but the run's config.json is missing", run_dir);
  const auto before = Config::from_resolved(read_json_file(saved_config.string()), saved_config.string());
  const auto locked = config_differences(before, resolved, /*locked_only=*/true);
  ST_CHECK_INPUT(locked.empty(), "{}: cannot resume, the config changed in a way that breaks resume ({}); "
                 "start a new train.output_dir instead", run_dir, fmt::join(locked, "; "));
  const auto manifest_path = (fs::path(run_dir) / "manifest.json").string();
  const auto manifest = read_json_file(manifest_path);
  ST_CHECK_INPUT(manifest.is_object() && manifest.contains("inputs") && manifest["inputs"].is_object(),
                 "{}: no \"inputs\" object; the run folder is damaged", manifest_path);
  for (const char* group : {"data", "model", "classifier"}) {
    const auto changed = changed_files(manifest["inputs"].value(group, json::object()), inputs[group]);
    ST_CHECK_INPUT(changed.empty(), "{}: cannot resume, the {} files changed since the run started (SHA-256 differs from "
                   "manifest.json): {}", run_dir, group, fmt::join(changed, ", "));
  }
  for (const auto& change : config_differences(before, resolved, /*locked_only=*/false))
    fmt::print("resume: config change allowed: {}\n", change);
}

// --resume restart in a folder that holds an earlier attempt: everything it wrote about itself is renamed
// (checkpoints.abandoned-N, metrics.abandoned-N.jsonl, incidents, rolled-back rows, TensorBoard files,
// evaluations, generations), never deleted, so the new attempt's report and logs hold only its own steps.
void set_aside_earlier_attempt(const std::string& run_dir) {
  const fs::path dir(run_dir);
  const std::pair<const char*, const char*> parts[] = {{"checkpoints", ""}, {"metrics", ".jsonl"}, {"incidents", ".jsonl"},
                                                       {"rolled_back", ".jsonl"}, {"tensorboard", ""}, {"evaluations", ""},
                                                       {"generations", ""}};
  auto aside = [&](const std::pair<const char*, const char*>& part, int n) {
    return dir / fmt::format("{}.abandoned-{}{}", part.first, n, part.second);
  };
  int n = 1;
  while (std::any_of(std::begin(parts), std::end(parts), [&](const auto& part) { return fs::exists(aside(part, n)); })) ++n;
  for (const auto& part : parts) {
    const fs::path from = dir / (std::string(part.first) + part.second);
    if (!fs::exists(from)) continue;
    fs::rename(from, aside(part, n));
    fmt::print("resume: restart: {} set aside as {}\n", from.filename().string(), aside(part, n).filename().string());
  }
}

// Decides where the run starts: a fresh folder (""), or a verified checkpoint with a compatible config.
std::string find_start(const std::string& resume, const std::string& run_dir, const Config& config, const json& inputs) {
  if (resume == "never") {
    ST_CHECK_INPUT(!fs::exists(CheckpointPaths::root(run_dir)) || fs::is_empty(CheckpointPaths::root(run_dir)),
                   "{}: run folder already has checkpoints; continue it with --resume auto or choose another "
                   "train.output_dir", run_dir);
    return "";
  }
  if (resume == "restart") {
    set_aside_earlier_attempt(run_dir);
    return "";
  }
  std::string checkpoint;
  if (resume == "auto") {
    const auto point = find_resume_checkpoint(run_dir);
    // Checkpoints exist but none is usable: starting over would rewrite the metrics and prune them, so it
    // takes the user's word (--resume restart), never a silent step 0.
    ST_CHECK_INPUT(point.dir.empty() == false || point.skipped.empty(),
                   "{}: none of its {} checkpoint(s) can be resumed: {}. Restore one, resume a specific one with "
                   "--resume PATH, or start over with --resume restart (the old checkpoints and metrics are set aside, "
                   "not deleted)", run_dir, point.skipped.size(), fmt::join(point.skipped, "; "));
    for (const auto& s : point.skipped) fmt::print("resume: skipped {}\n", s);
    checkpoint = point.dir;
    if (checkpoint.empty()) return "";
  } else {
    ST_CHECK_INPUT(fs::is_directory(resume), "--resume {}: no such checkpoint folder", resume);
    if (auto problem = verify_checkpoint(resume)) fail_input("--resume {}: {}", resume, *problem);
    checkpoint = resume;
  }
  check_resume_compatible(run_dir, config, inputs);
  return checkpoint;
}

// Which CPU kernels ran (ATen's AVX512/AVX2/DEFAULT; ATEN_CPU_CAPABILITY lowers it) and on how many threads:
// on CPU both change rounding, so two runs' bytes are comparable only where these agree.
json cpu_json() {
  return {{"model", cpu_model()}, {"aten_kernels", at::get_cpu_capability()}, {"threads", at::get_num_threads()}};
}

}  // namespace

torch::Device pick_device(DeviceChoice wanted, int local_rank) {
  if (wanted == DeviceChoice::Cpu) return torch::kCPU;
  if (wanted == DeviceChoice::Cuda) {
    ST_CHECK_INPUT(torch::cuda::is_available(), "model.device is 'cuda' but no CUDA device is available");
  } else if (!torch::cuda::is_available()) {
    return torch::kCPU;
  }
  // One GPU per process of a data-parallel run: LOCAL_RANK picks it.
  const auto gpus = static_cast<int>(torch::cuda::device_count());
  ST_CHECK_INPUT(local_rank < gpus, "this process is LOCAL_RANK {} but the machine has {} CUDA devices; launch at most "
                 "one process per GPU", local_rank, gpus);
  return {torch::kCUDA, static_cast<c10::DeviceIndex>(local_rank)};
}

TrainingRun::TrainingRun(const Config& config, std::string resume, std::unique_ptr<TrainableParameters> trainable,
                         std::unique_ptr<Communicator> communicator)
    : resolved_(config),
      config_(config.run_config()),
      resume_(std::move(resume)),
      run_dir_(config_.train.output_dir),
      trainable_(std::move(trainable)),
      communicator_(communicator ? std::move(communicator) : std::make_unique<SingleProcess>()),
      primary_(communicator_->is_primary()),
      device_(pick_device(config_.model.device, communicator_->local_rank())),
      tokenizer_(open_tokenizer(config_.model.path)),
      tokenizer_files_(files_to_carry(config_.model.path)),
      model_config_(LlamaConfig::from_file((fs::path(config_.model.path) / "config.json").string())),
      lambda_(config_.safety.lambda, config_.source + ": safety.lambda") {
  if (primary_) {  // the run folder has one writer: the primary process
    refuse_overlapping_outputs(resolved_);
    create_output_folder(run_dir_, "train.output_dir");
    lock_ = std::make_unique<FolderLock>(run_dir_);  // before anything in the folder is read or written
  }
  ST_CHECK_INPUT(penalty_scorer_source(config_) != ScorerSource::None || lambda_.always_zero(),
                 "{}: safety.lambda is not 0 but neither safety.classifier nor safety.harm_judge.model is set (train a "
                 "classifier with safetune train-classifier)", config_.source);
  check_tokenizer_matches_model(*tokenizer_, model_config_, (fs::path(config_.model.path) / "config.json").string());
  primary_first([&] { read_data(); });  // the others then read the token cache the primary wrote
  inputs_ = input_hashes(config_, train_data_.file_sha256);
  check_processes_agree();
  checkpoint_ = communicator_->await_primary(primary_ ? find_start(resume_, run_dir_, resolved_, inputs_) : "");
  seed_torch_generators();
  if (primary_) open_run_folder();
  build_model_and_optimizer();
  restore_checkpoint();
  primary_first([&] { prepare_safety_mix(); });  // the others read back the subset the primary chose
  prepare_loop();
  if (primary_) write_text_file_atomic((fs::path(run_dir_) / "manifest.json").string(), manifest_.dump(2) + "\n");
}

// The primary process does `work` first, then the others: for work whose result the primary writes down.
void TrainingRun::primary_first(const std::function<void()>& work) {
  if (!primary_) communicator_->await_primary("");
  work();
  if (primary_) communicator_->await_primary("");
}

// Every process must train the same run on the same data: the resolved config and every input's SHA-256
// are compared at start-up, and the first difference is named.
void TrainingRun::check_processes_agree() {
  if (communicator_->world_size() == 1) return;
  const json mine{{"config", resolved_.resolved()}, {"inputs", inputs_}, {"safetune", source_version()}};
  const auto all = communicator_->all_gather(mine.dump());
  for (int r = 1; r < communicator_->world_size(); ++r) {
    if (all[r] == all[0]) continue;
    const json first = json::parse(all[0]).flatten(), other = json::parse(all[r]).flatten();
    std::string key = "(a key one of them lacks)";
    for (const auto& [k, v] : first.items())
      if (!other.contains(k) || other[k] != v) { key = k; break; }
    std::string name = key.substr(key.rfind('/', 0) == 0 ? 1 : 0);  // a JSON pointer, read as a dotted key
    std::replace(name.begin(), name.end(), '/', '.');
    fail_input("data-parallel processes disagree: rank {} has a different {} from rank 0 ({} vs {}); every process "
               "must run the same config on the same files", r, name, other.contains(key) ? other[key].dump() : "nothing",
               first.contains(key) ? first[key].dump() : "nothing");
  }
}

// LibTorch seeds its default generators from the clock; a run draws from them (LoRA dropout), so a fresh
// run seeds them from train.seed (each process from its own stream) and a resumed one restores them from
// its checkpoint.
void TrainingRun::seed_torch_generators() {
  const uint64_t seed = rng_seed(config_.train.seed, RngStream::TorchGlobal);
  const int rank = communicator_->rank();
  torch::manual_seed(rank == 0 ? seed : derive_seed(seed, static_cast<uint64_t>(rank)));
}

TrainingRun::~TrainingRun() = default;

void TrainingRun::read_data() {
  config_.data.options.chat = resolve_chat_format(config_.data.options.chat_template, config_.model.path);
  fmt::print("chat template: {}\n", config_.data.options.chat.origin);
  ReadSettings settings;
  settings.threads = static_cast<int>(config_.data.tokenize_threads);
  settings.cache_dir = token_cache_dir(config_.data.cache);
  settings.cache_max_bytes = static_cast<uint64_t>(config_.data.cache_max_gb * static_cast<double>(uint64_t{1} << 30));
  settings.tokenizer_identity = tokenizer_files_sha256(config_.model.path);
  train_data_ = read_tokenized(config_.data.train, *tokenizer_, config_.data.options, settings);
  fmt::print("data: {}\n", train_data_.describe());
  if (!config_.data.validation.empty())
    val_examples_ = read_examples(config_.data.validation, *tokenizer_, config_.data.options, val_stats_);
}

// A fresh run writes its resolved config, a manifest and an empty metrics log; a resumed one reads its manifest.
void TrainingRun::open_run_folder() {
  fs::create_directories(run_dir_);
  if (!checkpoint_.empty()) {
    manifest_ = read_json_file((fs::path(run_dir_) / "manifest.json").string());
    return;
  }
  // A fresh run writes these; the config it was started from must not be one of them (a resume writes none).
  for (const char* name : {"config.json", "manifest.json", "metrics.jsonl"}) {
    std::error_code ec;
    ST_CHECK_INPUT(!fs::equivalent(config_.source, fs::path(run_dir_) / name, ec),
                   "{}: is the run folder's own {}, which a run starting afresh rewrites; copy it out of {} first",
                   config_.source, name, run_dir_);
  }
  write_text_file_atomic((fs::path(run_dir_) / "config.json").string(), resolved_.resolved().dump(2) + "\n");
  manifest_ = {{"safetune", SAFETUNE_VERSION},
               {"source_version", source_version()},
               {"libtorch", TORCH_VERSION},
               {"command_line", command_line()},
               {"started_at", utc_now()},
               {"seed", config_.train.seed},
               {"device", device_.str()},
               {"cpu", cpu_json()},
               {"processes", communicator_->world_size()},
               {"communicator", communicator_->describe()},
               {"inputs", inputs_},
               {"data", {{"train", stats_to_json(train_data_.data.stats())}, {"validation", stats_to_json(val_stats_)},
                         {"chat_template", config_.data.options.chat.origin}, {"read", train_data_.summary()}}},
               {"eval_inputs", eval_input_hashes(config_)},
               {"resumes", json::array()}};
  write_text_file_atomic((fs::path(run_dir_) / "metrics.jsonl").string(), "");
}

void TrainingRun::build_model_and_optimizer() {
  model_ = load_llama(config_.model.path, device_);
  model_->model->checkpoint_layers = config_.train.activation_checkpointing;
  // The sampled penalty and the evaluations read text scorers; where both read the same one, it is loaded once.
  const auto& safety = config_.safety;
  const auto penalty_source = penalty_scorer_source(config_);
  if (safety.estimator == EstimatorKind::Sampled && penalty_source == eval_scorer_source(safety.classifier, safety.harm_judge))
    text_scorer_ = open_scorer(penalty_source, safety.classifier, safety.harm_judge, device_);
  estimator_ = make_penalty_estimator({config_, device_, *tokenizer_, model_config_, text_scorer_});
  if (estimator_) {
    for (auto* module : estimator_->frozen_modules()) frozen_hashes_.push_back(parameters_sha256(*module));
    const bool judge = penalty_source == ScorerSource::HarmJudge;
    manifest_["classifier"] = {{"path", judge ? config_.safety.harm_judge.model : config_.safety.classifier},
                               {"kind", judge ? "harm_judge" : "classifier"}, {"weights_sha256", frozen_hashes_.front()}};
  }
  if (!trainable_) trainable_ = make_trainable_parameters(config_, base_model_sha256(inputs_));
  auto params = trainable_->select(model_);
  describe_trainable(params);
  const auto& o = config_.optim;
  optimizer_ = std::make_unique<AdamW>(std::move(params), AdamWOptions{o.beta1, o.beta2, o.eps, o.weight_decay});
  optimizer_->distribute(*communicator_, config_.train.shard_optimizer);
  const double state_mb = static_cast<double>(optimizer_->state_bytes()) / (1 << 20);
  manifest_["optimizer"] = {{"state_mb_per_process", state_mb}, {"sharded", optimizer_->sharded()}};
  fmt::print("optimizer: AdamW moments {:.2f} MB in this process{}\n", state_mb,
             optimizer_->sharded() ? fmt::format(" (sharded over {} processes)", communicator_->world_size()) : "");
}

// What the run trains, in the manifest and on stdout: the count is what the optimizer and checkpoints hold.
void TrainingRun::describe_trainable(const NamedTensors& params) {
  int64_t trained = 0, total = 0;
  for (const auto& [name, t] : params) trained += t.numel();
  for (const auto& p : model_->parameters()) total += p.numel();
  manifest_["trainable"] = {{"kind", trainable_->name()}, {"parameters", trained}, {"model_parameters", total}};
  fmt::print("trainable: {}; {} of {} parameters ({:.2f}%)\n", trainable_->describe(), trained, total, 100.0 * trained / std::max<int64_t>(total, 1));
}

void TrainingRun::restore_checkpoint() {
  if (checkpoint_.empty()) return;
  state_ = load_checkpoint(checkpoint_, model_, *trainable_, *optimizer_, communicator_->rank());
  // A step is processes × grad_accum micro-batches; a resume may change either but not the product.
  const int64_t world = communicator_->world_size(), per_step = world * config_.train.grad_accum;
  const int64_t was = state_.micro_batches_per_step;
  ST_CHECK_INPUT(was == 0 || was == per_step,
                 "{}: this run takes {} micro-batches per step, and {} process{} × train.grad_accum={} make {}; {}",
                 checkpoint_, was, world, world > 1 ? "es" : "", config_.train.grad_accum, per_step,
                 was % world == 0 ? fmt::format("set train.grad_accum={} to resume it with {} process{}", was / world, world, world > 1 ? "es" : "")
                                  : fmt::format("{} processes do not divide it; use a process count that does", world));
  lambda_.load_state(state_.lambda_state, checkpoint_);
  if (estimator_) estimator_->load_state(state_.penalty_state, checkpoint_);
  if (!primary_) return;
  MetricsLog::truncate_after((fs::path(run_dir_) / "metrics.jsonl").string(), state_.step);
  manifest_["resumes"].push_back({{"from", fs::path(checkpoint_).filename().string()}, {"step", state_.step},
                                  {"at", utc_now()}, {"command_line", command_line()}, {"source_version", source_version()},
                                  {"eval_inputs", eval_input_hashes(config_)}, {"data_read", train_data_.summary()},
                                  {"processes", communicator_->world_size()}, {"cpu", cpu_json()}});
  fmt::print("resume: continuing from {} (step {})\n", checkpoint_, state_.step);
}

void TrainingRun::prepare_safety_mix() {
  // Chosen once, by the primary; the others read its choice back as a resumed run does.
  safety_mix_ = SafetyMix::prepare(config_, train_data_.data, *tokenizer_, model_, run_dir_, !checkpoint_.empty() || !primary_);
  if (safety_mix_) {
    manifest_["safety_subset"] = safety_mix_->summary();
    const auto& s = manifest_["safety_subset"];
    fmt::print("safety mix: pool of {} ({} categories: {}), subset of {} by {} ({}), {} per micro-batch\n",
               s["pool"]["records"].get<int64_t>(), s["pool"]["categories"].size(), s["pool"]["categories"].dump(),
               s["size"].get<int64_t>(), s["strategy"].get<std::string>(), s["categories"].dump(), safety_mix_->per_batch());
  }
}

// Real tokens over occupied positions in the first epoch's task rows, with the layout in force and without
// packing: what packing saves, in the manifest and on stdout.
void TrainingRun::describe_packing() {
  const double efficiency = batcher_->token_efficiency(0);
  double unpacked = efficiency;
  if (config_.data.packing) {
    const Batcher plain(train_data_.data, config_.train.batch_size, static_cast<uint64_t>(config_.train.seed),
                        config_.data.group_by_length, tokenizer_->pad_id());
    unpacked = plain.token_efficiency(0);
    fmt::print("packing: {:.1f}% of row positions hold tokens ({:.1f}% unpacked)\n", 100 * efficiency, 100 * unpacked);
  }
  manifest_["data"]["packing"] = {{"enabled", config_.data.packing}, {"token_efficiency", efficiency},
                                  {"token_efficiency_unpacked", unpacked}};
}

// What the loop reads once: the schedule, batching, evaluation, logs, and the step's fixed options.
void TrainingRun::prepare_loop() {
  const auto& t = config_.train;
  schedule_ = {config_.schedule.type, config_.optim.lr, config_.schedule.warmup_steps, t.max_steps, config_.schedule.min_lr_ratio};
  batcher_ = std::make_unique<Batcher>(train_data_.data, t.batch_size, static_cast<uint64_t>(t.seed),
                                       config_.data.group_by_length, tokenizer_->pad_id(),
                                       config_.data.packing ? config_.data.options.max_seq_len : 0);
  describe_packing();
  ST_CHECK_INPUT(state_.cursor.index <= batcher_->batches_per_epoch(),  // equal: the epoch's last batch was taken
                 "{}/trainer_state.json: cursor.index {} is past the {} micro-batches of an epoch of this data",
                 checkpoint_, state_.cursor.index, batcher_->batches_per_epoch());
  auto eval_settings = EvalSettings::from_config(config_, val_examples_);
  eval_settings.device = device_;  // an LM judge runs beside the model
  eval_settings.scorer = text_scorer_;
  if (config_.gate.enabled) {
    ST_CHECK_INPUT(!eval_settings.harmful.empty() && config_.eval.every_steps > 0,
                   "{}: gate.enabled needs eval.harmful and eval.every_steps > 0 (the gate checks each evaluation)",
                   config_.source);
    ST_CHECK_INPUT(config_.gate.action == GateAction::Stop || !lambda_.always_zero(),
                   "{}: gate.action=increase_lambda multiplies λ, but safety.lambda is 0; set a λ schedule and a "
                   "classifier, or gate.action=stop", config_.source);
  }
  has_eval_ = eval_settings.generates() || !eval_settings.validation.empty();
  evaluator_ = std::make_unique<Evaluator>(std::move(eval_settings), *tokenizer_);
  // Metrics and progress come from the primary; the other processes' logs write nothing.
  metrics_ = std::make_unique<MetricsLog>(primary_ ? (fs::path(run_dir_) / "metrics.jsonl").string() : "",
                                          config_.log.tensorboard && primary_ ? (fs::path(run_dir_) / "tensorboard").string() : "",
                                          checkpoint_.empty() ? -1 : state_.step);
  progress_ = std::make_unique<Progress>(primary_ ? config_.log.progress : ProgressMode::Never, t.max_steps);
  evaluator_->on_progress([this](size_t done, size_t total) {
    progress_->status(fmt::format("step {}: evaluating {}/{} prompts", state_.step, done, total));
  });

  step_options_.max_grad_norm = t.max_grad_norm;
  step_options_.estimator = estimator_.get();
  step_options_.penalize = config_.safety.penalize;
  step_options_.safety_loss_weight = config_.safety.mix.loss_weight;
  step_options_.ce_chunk = t.chunked_loss == ChunkedLoss::Off ? 0 : 1024;  // auto = on
  step_options_.communicator = communicator_.get();
  step_options_.first_micro_batch = communicator_->rank() * t.grad_accum;
  state_.micro_batches_per_step = communicator_->world_size() * t.grad_accum;
  last_checkpoint_ = checkpoint_.empty() ? -1 : state_.step;
  const DataStats& stats = train_data_.data.stats();
  fmt::print("train: {} examples ({} truncated, {} dropped, {} bad lines skipped), {} micro-batches/epoch, "
             "device {}, {}, run folder {}\n", stats.examples, stats.truncated, stats.dropped_overlong,
             stats.skipped_bad_lines, batcher_->batches_per_epoch(), device_.str(), communicator_->describe(), run_dir_);
  if (device_.is_cuda()) {
    // Which attention kernel the step will use: the math fallback is several times slower and
    // quadratic in memory, so say so up front (scripts/bench fails on it).
    const int64_t seq = config_.data.options.max_seq_len;
    const auto kernel = attention_kernel(model_->config(), device_, torch::kBFloat16, seq);
    fmt::print("attention kernel: {} (bf16, sequence {}){}\n", kernel, seq,
               kernel == "math" ? " -- WARNING: not a fused kernel; expect a slow, memory-hungry step" : "");
    at::accelerator::resetPeakStats(device_.has_index() ? device_.index() : 0);
  }
}

}  // namespace st
