// cli/cmd_train.cpp — `safetune train --config FILE [--set k=v]... [--resume auto|never|PATH]`:
// sets up a run folder (or continues one), then runs the loop: sample, step, log, evaluate, checkpoint.
#include <torch/cuda.h>
#include <torch/version.h>

#include <ATen/DeviceAccelerator.h>

#include <chrono>
#include <ctime>
#include <filesystem>

#include "common/check.h"
#include "common/files.h"
#include "common/json_file.h"
#include "common/sha256.h"
#include "data/batcher.h"
#include "data/examples.h"
#include "losses/lambda_controller.h"
#include "models/model_folder.h"
#include "models/toxicity_classifier.h"
#include "trainer/checkpoint.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "trainer/config.h"
#include "trainer/eval/evaluation.h"
#include "trainer/eval/safety_gate.h"
#include "trainer/run_log.h"
#include "trainer/safety_mix.h"
#include "trainer/train_step.h"

namespace st {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
// CPU seconds of this process, all threads. Unlike wall time it excludes the time a shared VM's
// hypervisor takes (steal), so benchmarks on noisy machines can compare work done per step.
double process_cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

json stats_json(const DataStats& s) {
  return {{"lines", s.lines},         {"examples", s.examples},       {"skipped_bad_lines", s.skipped_bad_lines},
          {"skipped", s.skipped},     {"truncated", s.truncated},     {"dropped_overlong", s.dropped_overlong},
          {"tokens", s.tokens},       {"loss_tokens", s.loss_tokens}, {"formats", s.formats}};
}

// Every file a run reads, with its SHA-256: what makes a run reproducible and a resume safe.
json input_hashes(const Config& c, const std::string& model_dir) {
  json inputs = json::object();
  inputs["config"] = {{c.source(), sha256_file(c.source())}};
  json data = json::object();
  for (const auto* key : {"data.train", "data.validation"})
    for (const auto& f : c.paths(key)) data[f] = sha256_file(f);
  if (const auto pool = c.string("safety.mix.pool"); !pool.empty()) data[pool] = sha256_file(pool);
  inputs["data"] = data;
  json model = json::object();
  for (const auto& entry : fs::directory_iterator(model_dir)) {
    const auto name = entry.path().filename().string();
    const auto ext = entry.path().extension().string();
    if (entry.is_regular_file() && (ext == ".safetensors" || ext == ".json" || name == "tokenizer.model"))
      model[name] = sha256_file(entry.path().string());
  }
  inputs["model"] = model;
  json classifier = json::object();
  if (!c.string("safety.classifier").empty())
    for (const auto& entry : fs::directory_iterator(c.string("safety.classifier")))
      if (entry.is_regular_file()) classifier[entry.path().filename().string()] = sha256_file(entry.path().string());
  inputs["classifier"] = classifier;
  return inputs;
}

// SHA-256 of a module's parameter bytes, in order: "frozen" is checked, not assumed.
std::string weights_sha256(torch::nn::Module& module) {
  Sha256 h;
  for (const auto& p : module.parameters()) {
    auto cpu = p.detach().to(torch::kCPU).contiguous();
    h.update(cpu.data_ptr(), cpu.nbytes());
  }
  return h.hex_digest();
}

// Loads the frozen classifier and checks that the soft estimator can use it with this model.
ToxicityClassifier load_penalty_classifier(const std::string& dir, const std::string& tokenizer_path,
                                           const LlamaConfig& model_config, torch::Device device) {
  auto classifier = load_classifier(dir, device);
  const auto& cc = classifier->config();
  const std::string lm_hash = vocabulary_sha256(tokenizer_path);
  ST_CHECK_INPUT(cc.encoder.vocab_size == model_config.vocab_size && cc.tokenizer_sha256 == lm_hash,
                 "{}: the soft penalty needs the classifier to share the language model's vocabulary, but it has {} "
                 "pieces and tokenizer SHA-256 {} while the model has {} and {}; train the classifier with "
                 "classifier.tokenizer set to this model's tokenizer.model, or set safety.estimator=sampled, which "
                 "scores decoded text with the classifier's own tokenizer",
                 dir, cc.encoder.vocab_size, cc.tokenizer_sha256.empty() ? "(none)" : cc.tokenizer_sha256.substr(0, 12),
                 model_config.vocab_size, lm_hash.substr(0, 12));
  return classifier;
}

torch::Device pick_device(const std::string& wanted) {
  if (wanted == "cpu") return torch::kCPU;
  if (wanted == "cuda") {
    ST_CHECK_INPUT(torch::cuda::is_available(), "model.device is 'cuda' but no CUDA device is available");
    return torch::kCUDA;
  }
  return torch::cuda::is_available() ? torch::kCUDA : torch::kCPU;
}

// Decides where the run starts: a fresh folder, or a verified checkpoint with a compatible config.
std::string prepare_resume(const std::string& resume, const std::string& run_dir, const Config& config,
                           const json& inputs) {
  const fs::path saved_config = fs::path(run_dir) / "config.json";
  std::string checkpoint;
  if (resume == "never") {
    ST_CHECK_INPUT(!fs::exists(CheckpointPaths::root(run_dir)) || fs::is_empty(CheckpointPaths::root(run_dir)),
                   "{}: run folder already has checkpoints; continue it with --resume auto or choose another "
                   "train.output_dir", run_dir);
    return "";
  }
  if (resume == "auto") {
    const auto point = find_resume_checkpoint(run_dir);
    for (const auto& s : point.skipped) fmt::print("resume: skipped {}\n", s);
    checkpoint = point.dir;
    if (checkpoint.empty()) return "";
  } else {
    ST_CHECK_INPUT(fs::is_directory(resume), "--resume {}: no such checkpoint folder", resume);
    if (auto problem = verify_checkpoint(resume)) fail_input("--resume {}: {}", resume, *problem);
    checkpoint = resume;
  }
  // A resume must see the same model, data and batching; more steps or another LR are fine.
  ST_CHECK_INPUT(fs::exists(saved_config), "{}: checkpoint found but the run's config.json is missing", run_dir);
  const auto before = Config::from_resolved(read_json_file(saved_config.string()), saved_config.string());
  const auto locked = config_differences(before, config, /*locked_only=*/true);
  ST_CHECK_INPUT(locked.empty(), "{}: cannot resume, the config changed in a way that breaks resume ({}); "
                 "start a new train.output_dir instead", run_dir, fmt::join(locked, "; "));
  const auto manifest = read_json_file((fs::path(run_dir) / "manifest.json").string());
  for (const char* group : {"data", "model", "classifier"})
    ST_CHECK_INPUT(manifest["inputs"].value(group, json::object()) == inputs[group],
                   "{}: cannot resume, the {} files changed since the run started (SHA-256 differs from manifest.json)",
                   run_dir, group);
  for (const auto& change : config_differences(before, config, /*locked_only=*/false))
    fmt::print("resume: config change allowed: {}\n", change);
  return checkpoint;
}

}  // namespace

int run_train(const Args& args) {
  static const CommandSpec spec{"train", "train --config FILE [--set key=value]... [--resume auto|never|PATH]",
                                {}, {"config", "set", "resume"}, 0, 0};
  CommandLine cl(spec, args);
  ST_CHECK_INPUT(cl.value("config").has_value(), "train: --config is required (usage: safetune {})", spec.usage);
  const Config config = Config::load(*cl.value("config"), cl.values("set"));
  const std::string resume = cl.value_or("resume", "auto");
  LambdaController lambda(config.raw("safety.lambda"), config.source() + ": safety.lambda");
  const std::string classifier_dir = config.string("safety.classifier");
  ST_CHECK_INPUT(!classifier_dir.empty() || lambda.always_zero(),
                 "{}: safety.lambda is not 0 but no safety.classifier is set (train one with safetune train-classifier)",
                 config.source());
  const std::string run_dir = config.string("train.output_dir");
  const std::string model_dir = config.string("model.path");
  const std::string tokenizer_path = model_dir;  // TODO(lead): the tokenizer is the folder's (open_tokenizer)
  const torch::Device device = pick_device(config.string("model.device"));

  // Set-up: tokenizer, data, model, optimizer, and where to start.
  const auto tokenizer_owner = open_tokenizer(tokenizer_path);
  const Tokenizer& tokenizer = *tokenizer_owner;
  const auto model_config = LlamaConfig::from_file((fs::path(model_dir) / "config.json").string());
  ST_CHECK_INPUT(tokenizer.vocab_size() <= model_config.vocab_size, "{}: tokenizer has {} pieces but vocab_size is {}",
                 tokenizer_path, tokenizer.vocab_size(), model_config.vocab_size);
  const DataOptions data_opts = data_options(config);
  DataStats train_stats, val_stats;
  const auto train_examples = read_examples(config.paths("data.train"), tokenizer, data_opts, train_stats);
  std::vector<Example> val_examples;
  if (!config.paths("data.validation").empty())
    val_examples = read_examples(config.paths("data.validation"), tokenizer, data_opts, val_stats);
  const json inputs = input_hashes(config, model_dir);
  const std::string checkpoint = prepare_resume(resume, run_dir, config, inputs);

  fs::create_directories(run_dir);
  const std::string metrics_path = (fs::path(run_dir) / "metrics.jsonl").string();
  const std::string manifest_path = (fs::path(run_dir) / "manifest.json").string();
  json manifest;
  if (checkpoint.empty()) {
    write_text_file_atomic((fs::path(run_dir) / "config.json").string(), config.resolved().dump(2) + "\n");
    manifest = {{"safetune", SAFETUNE_VERSION}, {"libtorch", TORCH_VERSION}, {"seed", config.integer("train.seed")},
                {"device", device.str()},       {"inputs", inputs},           {"data", {{"train", stats_json(train_stats)},
                                                                                        {"validation", stats_json(val_stats)}}},
                {"resumes", json::array()}};
    write_text_file_atomic(metrics_path, "");
  } else {
    manifest = read_json_file(manifest_path);
  }

  auto model = load_llama(model_dir, device);
  model->model->checkpoint_layers = config.boolean("train.activation_checkpointing");
  const bool sampled = config.string("safety.estimator") == "sampled";
  ToxicityClassifier classifier{nullptr};  // soft: read through expected embeddings
  std::unique_ptr<TextScorer> scorer;      // sampled: reads decoded text with its own tokenizer
  std::string classifier_hash;
  if (!classifier_dir.empty()) {
    if (sampled) {
      scorer = std::make_unique<TextScorer>(classifier_dir, device);
      classifier = scorer->classifier();
    } else {
      classifier = load_penalty_classifier(classifier_dir, tokenizer_path, model_config, device);
    }
    classifier_hash = weights_sha256(*classifier);
    manifest["classifier"] = {{"path", classifier_dir}, {"weights_sha256", classifier_hash}};
  }
  AdamWOptions adam{config.number("optim.beta1"), config.number("optim.beta2"), config.number("optim.eps"),
                    config.number("optim.weight_decay")};
  NamedTensors params;
  for (auto& item : model->named_parameters()) params.emplace_back(item.key(), item.value());
  AdamW optimizer(params, adam);
  TrainingState state;
  if (!checkpoint.empty()) {
    state = load_checkpoint(checkpoint, model, optimizer);
    lambda.load_state(state.lambda_state, checkpoint);
    MetricsLog::truncate_after(metrics_path, state.step);
    manifest["resumes"].push_back({{"from", fs::path(checkpoint).filename().string()}, {"step", state.step}});
    fmt::print("resume: continuing from {} (step {})\n", checkpoint, state.step);
  }
  auto safety_mix = SafetyMix::prepare(config, train_examples, tokenizer, data_opts, model, run_dir, !checkpoint.empty());
  if (safety_mix) {
    manifest["safety_subset"] = safety_mix->summary();
    const auto& s = manifest["safety_subset"];
    fmt::print("safety mix: pool of {} ({} categories: {}), subset of {} by {} ({}), {} per micro-batch\n",
               s["pool"]["records"].get<int64_t>(), s["pool"]["categories"].size(), s["pool"]["categories"].dump(),
               s["size"].get<int64_t>(), s["strategy"].get<std::string>(), s["categories"].dump(),
               safety_mix->per_batch());
  }
  write_text_file_atomic(manifest_path, manifest.dump(2) + "\n");

  const int64_t max_steps = config.integer("train.max_steps"), grad_accum = config.integer("train.grad_accum");
  const int64_t every_ckpt = config.integer("checkpoint.every_steps"), keep_last = config.integer("checkpoint.keep_last");
  const int64_t every_log = config.integer("log.every_steps"), every_eval = config.integer("eval.every_steps");
  const ScheduleOptions schedule{config.string("schedule.type"), config.number("optim.lr"),
                                 config.integer("schedule.warmup_steps"), max_steps, config.number("schedule.min_lr_ratio")};
  const uint64_t seed = static_cast<uint64_t>(config.integer("train.seed"));
  Batcher batcher(train_examples, config.integer("train.batch_size"), seed,
                  config.boolean("data.group_by_length"), tokenizer.pad_id());
  const GateSettings gate = GateSettings::from_config(config);
  const std::string best_metric = config.string("eval.best_metric");
  auto eval_settings = EvalSettings::from_config(config, val_examples);
  if (gate.enabled) {
    ST_CHECK_INPUT(!eval_settings.harmful.empty() && every_eval > 0,
                   "{}: gate.enabled needs eval.harmful and eval.every_steps > 0 (the gate checks each evaluation)",
                   config.source());
    ST_CHECK_INPUT(gate.action == "stop" || !lambda.always_zero(),
                   "{}: gate.action=increase_lambda multiplies λ, but safety.lambda is 0; set a λ schedule and a "
                   "classifier, or gate.action=stop", config.source());
  }
  const bool has_eval = eval_settings.generates() || !eval_settings.validation.empty();
  Evaluator evaluator(std::move(eval_settings), tokenizer);
  MetricsLog metrics(metrics_path);
  Progress progress(config.string("log.progress"), max_steps);
  install_stop_handlers();
  fmt::print("train: {} examples ({} truncated, {} dropped, {} bad lines skipped), {} micro-batches/epoch, "
             "device {}, run folder {}\n", train_stats.examples, train_stats.truncated, train_stats.dropped_overlong,
             train_stats.skipped_bad_lines, batcher.batches_per_epoch(), device.str(), run_dir);
  const c10::DeviceIndex device_index = device.has_index() ? device.index() : 0;
  if (device.is_cuda()) {
    // Which attention kernel the step will use: the math fallback is several times slower and
    // quadratic in memory, so say so up front (scripts/bench fails on it).
    const auto kernel = attention_kernel(model->config(), device, torch::kBFloat16, config.integer("data.max_seq_len"));
    fmt::print("attention kernel: {} (bf16, sequence {}){}\n", kernel, config.integer("data.max_seq_len"),
               kernel == "math" ? " -- WARNING: not a fused kernel; expect a slow, memory-hungry step" : "");
    at::accelerator::resetPeakStats(device_index);
  }

  const auto started = Clock::now();
  const double elapsed_before = state.elapsed_s;
  auto window_started = Clock::now();  // tokens/s is measured over the steps since the last log line
  int64_t window_tokens = 0;
  int64_t last_checkpoint = checkpoint.empty() ? -1 : state.step, steps_this_process = 0;
  bool checkpoint_wanted = false;  // an evaluation passed the gate or set a new best: keep this step
  auto save = [&] {
    state.elapsed_s = elapsed_before + seconds_since(started);
    write_checkpoint(run_dir, model, optimizer, state, tokenizer_files(tokenizer_path), keep_last, {state.best_step, state.last_passing_step});
    if (state.best_step >= 0)
      write_text_file_atomic((fs::path(CheckpointPaths::root(run_dir)) / "best").string(),
                             fs::path(CheckpointPaths::step_dir(run_dir, state.best_step)).filename().string() + "\n");
    last_checkpoint = state.step;
    checkpoint_wanted = false;
  };
  // Evaluates at the current step. Returns true when the safety gate found an incident and restored the
  // last passing checkpoint (the loop then continues from there, with λ scaled up).
  auto run_eval = [&]() -> bool {
    if (!has_eval) return false;
    std::vector<json> generations;
    const json report = evaluator.run(model, &generations);
    json row{{"type", "eval"}, {"step", state.step}};
    const json flat = Evaluator::flatten(report);
    row.update(flat);
    metrics.write(row);
    if (!generations.empty()) {
      std::string text;
      for (const auto& g : generations) text += g.dump() + "\n";
      fs::create_directories(fs::path(run_dir) / "generations");
      write_text_file_atomic((fs::path(run_dir) / "generations" / fmt::format("step-{:08d}.jsonl", state.step)).string(), text);
    }
    std::vector<std::string> parts;
    for (const auto& [k, v] : row.items())
      if (k != "type" && k != "step") parts.push_back(fmt::format("{} {}", k, v.is_number_float() ? fmt::format("{:.4f}", v.get<double>()) : v.dump()));
    progress.message(fmt::format("eval step {}: {}", state.step, fmt::join(parts, ", ")));

    if (gate.enabled && state.step == 0) state.baseline_refusal = flat.value("harmful_refusal_rate", std::nan(""));
    const auto broken = gate.enabled ? gate_violations(gate, flat, state.baseline_refusal) : std::vector<std::string>{};
    if (broken.empty()) {
      if (gate.enabled) state.last_passing_step = state.step, checkpoint_wanted = true;
      if (best_metric != "none" && flat.contains(best_metric) &&
          is_better(best_metric, flat[best_metric].get<double>(), state.best_value)) {
        state.best_step = state.step;
        state.best_value = flat[best_metric].get<double>();
        checkpoint_wanted = true;
      }
      return false;
    }
    // An incident: record it, then stop or rewind to the last passing checkpoint with λ scaled up.
    const int64_t incidents = state.incidents + 1;
    const bool stop = gate.action == "stop" || incidents > gate.max_incidents;
    const double scale = stop ? state.lambda_scale : state.lambda_scale * gate.lambda_factor;
    json incident{{"type", "incident"}, {"step", stop ? state.step : state.last_passing_step}, {"at_step", state.step},
                  {"violations", broken}, {"eval", flat}, {"action", stop ? "stop" : "increase_lambda"},
                  {"restored_to", stop ? json(nullptr) : json(state.last_passing_step)}, {"lambda_scale", scale},
                  {"incident", incidents}};
    const auto incidents_path = (fs::path(run_dir) / "incidents.jsonl").string();
    write_text_file_atomic(incidents_path, (fs::exists(incidents_path) ? read_text_file(incidents_path) : "") + incident.dump() + "\n");
    progress.message(fmt::format("safety gate: incident {} at step {}: {}", incidents, state.step, fmt::join(broken, "; ")));
    if (stop) {
      metrics.write(incident);
      progress.finish();
      fail_runtime("safety gate: {} at step {} ({}); stopped. The last checkpoint that passed is step {}; see {}",
                   fmt::join(broken, "; "), state.step,
                   gate.action == "stop" ? "gate.action=stop" : fmt::format("more than gate.max_incidents={}", gate.max_incidents),
                   state.last_passing_step, incidents_path);
    }
    state = load_checkpoint(CheckpointPaths::step_dir(run_dir, state.last_passing_step), model, optimizer);
    state.incidents = incidents;
    state.lambda_scale = scale;
    lambda.load_state(state.lambda_state, "the restored checkpoint");
    discard_checkpoints_after(run_dir, state.step);
    metrics.rewind_to(state.step);
    metrics.write(incident);
    last_checkpoint = state.step;
    progress.message(fmt::format("safety gate: restored step {}; λ is now scaled by {}", state.step, scale));
    return true;
  };
  if (gate.enabled && checkpoint.empty()) {
    // The gate compares against the model before any update, and needs a passing checkpoint to return to.
    run_eval();
    save();
  }

  // What the step needs from the config, read once; the per-step fields are set in the loop.
  StepOptions step_opts;
  step_opts.max_grad_norm = config.number("train.max_grad_norm");
  step_opts.estimator = config.string("safety.estimator");
  step_opts.classifier = classifier && !sampled ? &classifier : nullptr;
  step_opts.temperature = config.number("safety.temperature");
  step_opts.penalize = config.string("safety.penalize");
  step_opts.safety_loss_weight = config.number("safety.mix.loss_weight");
  step_opts.ce_chunk = config.string("train.chunked_loss") == "off" ? 0 : 1024;  // auto = on
  step_opts.scorer = scorer.get();
  step_opts.tokenizer = &tokenizer;
  step_opts.sample = {config.number("safety.sample.temperature"), config.integer("safety.sample.max_new_tokens"),
                      config.number("safety.sample.baseline_momentum")};

  for (;;) {  // the safety gate may rewind the run; otherwise this runs once
    while (state.step < max_steps) {
      // 1. sample the step's micro-batches (the cursor moves on; it is saved with the checkpoint)
      //    with k safety examples each when mixing (the mixer's draw count is saved too)
      std::vector<Batch> micro;
      std::map<std::string, int64_t> safety_categories;
      for (int64_t i = 0; i < grad_accum; ++i)
        micro.push_back(batcher.next(state.cursor, safety_mix ? safety_mix->draw(state.safety_draws, safety_categories)
                                                              : std::vector<const Example*>{}));
      // 2-4. forward, loss, backward, clip, update
      state.lambda = lambda.value(state.step) * state.lambda_scale;
      step_opts.lr = learning_rate(schedule, state.step);
      step_opts.lambda = state.lambda;
      step_opts.baseline = state.penalty_baseline;
      step_opts.sample_seed = derive_seed(seed, 1000 + static_cast<uint64_t>(state.step));
      const StepResult r = train_step(model, optimizer, micro, step_opts);
      if (r.penalized > 0) {
        lambda.observe(r.p_toxic);
        const double m = step_opts.sample.baseline_momentum;
        state.penalty_baseline = std::isnan(state.penalty_baseline) ? r.penalty : m * state.penalty_baseline + (1 - m) * r.penalty;
      }
      state.lambda_state = lambda.state();
      state.step += 1;
      steps_this_process += 1;
      state.optimizer_steps = optimizer.steps();
      state.tokens_seen += r.tokens;
      if (!r.finite) {
        state.skipped_nonfinite += 1;
        if (config.string("train.on_nonfinite") == "stop") {
          progress.finish();
          fail_runtime("non-finite loss or gradient at step {} (loss {}, grad norm {}); stopped without saving it. "
                       "The last good checkpoint is step {}", state.step, r.loss, r.grad_norm, last_checkpoint);
        }
        progress.message(fmt::format("step {}: non-finite loss or gradient, update skipped", state.step));
      }
      // 5. log
      window_tokens += r.tokens;
      if (state.step % every_log == 0 || state.step == max_steps) {
        const double total_s = seconds_since(started);
        const double tokens_per_s = static_cast<double>(window_tokens) / std::max(seconds_since(window_started), 1e-9);
        const double epoch = static_cast<double>(state.cursor.epoch) +
                             static_cast<double>(state.cursor.index) / static_cast<double>(batcher.batches_per_epoch());
        json row{{"type", "train"}, {"step", state.step}, {"epoch", epoch}, {"loss", r.loss}, {"ce", r.ce},
                 {"penalty", r.penalty}, {"p_toxic", r.p_toxic}, {"lambda", state.lambda}, {"lr", step_opts.lr},
                 {"grad_norm", r.grad_norm}, {"tokens", r.tokens}, {"skipped_nonfinite", state.skipped_nonfinite},
                 {"tokens_per_s", tokens_per_s}, {"elapsed_s", elapsed_before + total_s},
                 {"cpu_s", process_cpu_seconds()}};
        if (device.is_cuda())  // the caching allocator's peak since the start of this process's training
          row["cuda_peak_mb"] = static_cast<double>(at::accelerator::getDeviceStats(device_index).allocated_bytes[0].peak) / (1 << 20);
        if (safety_mix) row["safety_examples"] = r.safety_rows, row["safety_categories"] = safety_categories;
        metrics.write(row);
        const double per_step = total_s / static_cast<double>(steps_this_process);
        progress.update(state.step, r.loss, tokens_per_s, per_step * static_cast<double>(max_steps - state.step));
        window_tokens = 0;
        window_started = Clock::now();
      }
      // 6. evaluate and checkpoint when due; a stop request gets a checkpoint and exit 75
      if (every_eval > 0 && state.step % every_eval == 0 && state.step < max_steps && run_eval()) continue;
      if (((every_ckpt > 0 && state.step % every_ckpt == 0) || checkpoint_wanted) && state.step < max_steps) save();
      const bool scheduled_stop = state.step == config.integer("train.stop_at_step");
      if ((stop_requested() || scheduled_stop) && state.step < max_steps) {
        if (last_checkpoint != state.step) save();
        progress.finish();
        fmt::print("train: stopped ({}) at step {}; checkpoint written, resume with --resume auto\n",
                   scheduled_stop ? "train.stop_at_step" : fmt::format("signal {}", stop_signal()), state.step);
        return static_cast<int>(ExitCode::interrupted);
      }
    }
    progress.finish();
    if (steps_this_process > 0) {
      // As mid-run, the evaluation precedes the checkpoint of its step, so a resume from that checkpoint
      // never evaluates twice and a crash between the two is repaired by metrics truncation.
      if (run_eval()) continue;  // the gate rewound the run
      save();
    } else {
      fmt::print("train: the run was already complete at step {}; rewriting final/\n", state.step);
    }
    break;
  }
  if (classifier)
    ST_CHECK(weights_sha256(*classifier) == classifier_hash,
             "the classifier's weights changed during the run (SHA-256 {} at the start); it must stay frozen", classifier_hash);
  const auto final_dir = (fs::path(run_dir) / "final").string();
  save_llama(final_dir, model, {dtype_from_config_name(config.string("model.save_dtype"), "model.save_dtype"), 0,
                                tokenizer_files(tokenizer_path)});
  fmt::print("train: done, {} steps, {} loss tokens, {} skipped updates; final weights in {}\n", state.step,
             state.tokens_seen, state.skipped_nonfinite, final_dir);
  return 0;
}

}  // namespace st
