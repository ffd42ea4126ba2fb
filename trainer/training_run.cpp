// trainer/training_run.cpp — TrainingRun's loop and finish: each step is followed by the named predicates
// (log? evaluate? checkpoint? stop?), and an evaluation that breaks the safety gate leads to one transition,
// rewind_after(), which restores the last passing checkpoint with λ scaled up, or stops the run.
#include <ATen/DeviceAccelerator.h>

#include <cmath>
#include <ctime>
#include <filesystem>

#include "common/check.h"
#include "common/files.h"
#include "common/rng.h"
#include "models/model_folder.h"
#include "trainer/eval/safety_gate.h"
#include "trainer/training_run.h"

namespace st {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
// CPU seconds of this process, all threads. Unlike wall time it excludes the time a shared VM's
// hypervisor takes (steal), so benchmarks on noisy machines can compare work done per step.
double process_cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }
double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

int TrainingRun::run() {  // the command installed the stop-signal handlers before set-up
  started_ = Clock::now();
  elapsed_before_ = state_.elapsed_s;
  if (checkpoint_.empty()) evaluate_base_model();
  while (state_.step < config_.train.max_steps) {
    const StepResult r = take_step();
    if (log_due()) log_step(r);
    if (eval_due()) {
      if (const auto incident = evaluate()) {
        rewind_after(*incident);
        continue;
      }
    }
    if (checkpoint_due()) save_checkpoint();
    if (stop_due()) return stop_with_checkpoint();
  }
  return finish();
}

// ---- the step ------------------------------------------------------------------------------------

StepResult TrainingRun::take_step() {
  // The step's micro-batches (the cursor moves on; it is saved with the checkpoint), with k safety
  // examples each when mixing (the mixer's draw count is saved too). A step is world × grad_accum
  // micro-batches in one global order; process r trains the r-th run of grad_accum of them, and every
  // process moves the cursor and the mixer past all, so both stay in global terms.
  const auto step_started = Clock::now();
  const int64_t accum = config_.train.grad_accum, mine = communicator_->rank();
  std::vector<Batch> micro;
  step_safety_categories_.clear();
  for (int64_t i = 0; i < communicator_->world_size() * accum; ++i) {
    const auto extra = safety_mix_ ? safety_mix_->draw(state_.safety_draws, step_safety_categories_) : std::vector<const Example*>{};
    if (i / accum == mine)
      micro.push_back(batcher_->next(state_.cursor, extra));
    else
      batcher_->skip(state_.cursor);
  }
  state_.lambda = lambda_.value(state_.step) * state_.lambda_scale;
  step_options_.lr = learning_rate(schedule_, state_.step);
  step_options_.lambda = state_.lambda;
  step_options_.penalty_seed = rng_seed(config_.train.seed, RngStream::SampledPenalty, static_cast<uint64_t>(state_.step));
  const StepResult r = train_step(model_, *optimizer_, micro, step_options_);
  if (r.penalized > 0) lambda_.observe(r.p_toxic);
  state_.lambda_state = lambda_.state();
  if (estimator_) state_.penalty_state = estimator_->state();
  state_.step += 1;
  steps_this_process_ += 1;
  state_.optimizer_steps = optimizer_->steps();
  state_.tokens_seen += r.tokens;
  window_tokens_ += r.tokens;
  window_input_tokens_ += r.input_tokens;
  window_comm_s_ += r.comm_s;
  window_step_s_ += seconds_since(step_started);
  handle_nonfinite(r);
  return r;
}

// A skipped update is counted; `stop`, or too many in a row, ends the run keeping the last good checkpoint.
void TrainingRun::handle_nonfinite(const StepResult& r) {
  if (r.finite) {
    state_.consecutive_skips = 0;
    return;
  }
  state_.skipped_nonfinite += 1;
  state_.consecutive_skips += 1;
  const bool stop = config_.train.on_nonfinite == OnNonfinite::Stop;
  const bool too_many = state_.consecutive_skips > config_.train.max_consecutive_skips;
  if (!stop && !too_many) {
    progress_->message(fmt::format("step {}: non-finite loss or gradient, update skipped", state_.step));
    return;
  }
  progress_->finish();
  const std::string kept = last_checkpoint_ >= 0 ? fmt::format("The last good checkpoint is step {}", last_checkpoint_)
                                                 : std::string("No checkpoint was written yet");
  if (stop)
    fail_runtime("non-finite loss or gradient at step {} (loss {}, grad norm {}); stopped without saving it. {}",
                 state_.step, r.loss, r.grad_norm, kept);
  fail_runtime("{} updates in a row were skipped as non-finite (steps {} to {}; train.max_consecutive_skips={}); "
               "stopped without saving. {}. Lower optim.lr or check the data", state_.consecutive_skips,
               state_.step - state_.consecutive_skips + 1, state_.step, config_.train.max_consecutive_skips, kept);
}

// ---- when things happen --------------------------------------------------------------------------

bool TrainingRun::log_due() const {
  return state_.step % config_.log.every_steps == 0 || state_.step == config_.train.max_steps;
}

// Every eval.every_steps, and at the end, which precedes the final checkpoint as mid-run evaluations
// precede theirs: a resume from that checkpoint never evaluates twice.
bool TrainingRun::eval_due() const {
  const int64_t every = config_.eval.every_steps;
  return has_eval_ && (state_.step == config_.train.max_steps || (every > 0 && state_.step % every == 0));
}

bool TrainingRun::checkpoint_due() const {
  const int64_t every = config_.checkpoint.every_steps;
  return state_.step == config_.train.max_steps || checkpoint_wanted_ || (every > 0 && state_.step % every == 0);
}

// A signal reaches the processes at different moments; they agree on it after each step, so all stop
// after the same one.
bool TrainingRun::stop_due() {
  if (state_.step >= config_.train.max_steps) return false;
  const bool signalled = any_process(*communicator_, stop_requested());
  return signalled || state_.step == config_.train.stop_at_step;
}

// ---- logging -------------------------------------------------------------------------------------

void TrainingRun::log_step(const StepResult& r) {
  const double total_s = seconds_since(started_);
  const double window_s = std::max(window_step_s_, 1e-9);
  const double tokens_per_s = static_cast<double>(window_tokens_) / window_s;
  const double input_tokens_per_s = static_cast<double>(window_input_tokens_) / window_s;
  const double epoch = static_cast<double>(state_.cursor.epoch) +
                       static_cast<double>(state_.cursor.index) / static_cast<double>(batcher_->batches_per_epoch());
  json row{{"type", "train"}, {"step", state_.step}, {"epoch", epoch}, {"loss", r.loss}, {"ce", r.ce},
           {"penalty", r.penalty}, {"p_toxic", r.p_toxic}, {"lambda", state_.lambda}, {"lr", step_options_.lr},
           {"grad_norm", r.grad_norm}, {"tokens", r.tokens}, {"skipped_nonfinite", state_.skipped_nonfinite},
           {"tokens_seen", state_.tokens_seen}, {"tokens_per_s", tokens_per_s}, {"input_tokens_per_s", input_tokens_per_s},
           {"elapsed_s", elapsed_before_ + total_s}, {"cpu_s", process_cpu_seconds()}, {"timestamp", unix_seconds()}};
  if (device_.is_cuda()) {  // the caching allocator's peak since the start of this process's training
    const auto stats = at::accelerator::getDeviceStats(device_.has_index() ? device_.index() : 0);
    row["cuda_peak_mb"] = static_cast<double>(stats.allocated_bytes[0].peak) / (1 << 20);
  }
  if (safety_mix_) row["safety_examples"] = r.safety_rows, row["safety_categories"] = step_safety_categories_;
  if (communicator_->world_size() > 1) row["comm_s"] = window_comm_s_, row["comm_share"] = window_comm_s_ / window_s;
  metrics_->write(row);
  const double per_step = total_s / static_cast<double>(steps_this_process_);  // evaluations included: the real ETA
  smoothed_loss_ = std::isnan(smoothed_loss_) ? r.loss : 0.9 * smoothed_loss_ + 0.1 * r.loss;
  ProgressLine line{state_.step, smoothed_loss_, input_tokens_per_s, tokens_per_s, elapsed_before_ + total_s,
                    per_step * static_cast<double>(config_.train.max_steps - state_.step)};
  if (estimator_) line.lambda = state_.lambda, line.p_toxic = r.p_toxic;
  progress_->update(line);
  window_tokens_ = window_input_tokens_ = 0;
  window_step_s_ = window_comm_s_ = 0;
}

// ---- evaluation and the safety gate --------------------------------------------------------------

namespace {
// The first few generations of an evaluation as a Markdown table, for TensorBoard's Text tab.
std::string generations_markdown(const std::vector<json>& generations) {
  auto cell = [](std::string text) {
    for (auto& c : text)
      if (c == '|' || c == '\n') c = ' ';
    return text.size() > 200 ? text.substr(0, 200) + "…" : text;
  };
  std::string md = "| set | prompt | response | refusal | P(toxic) |\n|---|---|---|---|---|\n";
  for (size_t i = 0; i < std::min<size_t>(generations.size(), 12); ++i) {
    const auto& g = generations[i];
    md += fmt::format("| {} | {} | {} | {} | {} |\n", g.value("set", ""), cell(g.value("prompt", "")), cell(g.value("response", "")),
                      g.value("refusal", false) ? "yes" : "no",
                      g.contains("p_toxic") ? fmt::format("{:.3f}", g["p_toxic"].get<double>()) : std::string("-"));
  }
  return md;
}
}  // namespace

namespace {
// One evaluation in a short line a person reads: rates in %, names in words, only what was measured.
std::string eval_summary(int64_t step, const json& flat) {
  const std::pair<const char*, const char*> shown[] = {
      {"harmful_refusal_rate", "refusal"}, {"harmful_toxicity_rate", "toxic"}, {"benign_over_refusal_rate", "over-refusal"},
      {"exact_match", "exact match"}, {"val_ce", "val CE"}};
  std::vector<std::string> parts;
  for (const auto& [key, name] : shown) {
    if (!flat.contains(key)) continue;
    const double v = flat[key].get<double>();
    parts.push_back(std::string(key) == "val_ce" ? fmt::format("{} {:.4f}", name, v) : fmt::format("{} {:5.1f}%", name, 100 * v));
  }
  return fmt::format("eval  step {:<6} {}", step, fmt::join(parts, " | "));
}
}  // namespace

// Evaluates at the current step; returns the flat row. The primary process evaluates and the others
// receive its numbers, so every process takes the same decisions (the gate, the best checkpoint).
json TrainingRun::measure() {
  json flat;
  if (primary_) flat = measure_and_record();
  if (communicator_->world_size() == 1) return flat;
  return json::parse(communicator_->await_primary(flat.dump()));
}

// Evaluates and records it: a metrics row, the full report in evaluations/, the responses in
// generations/, TensorBoard scalars and text, and the summary line. Returns the flat row.
json TrainingRun::measure_and_record() {
  std::vector<json> generations;
  EvalModeGuard eval_mode(*model_);
  const json report = evaluator_->run(model_, &generations);
  json row{{"type", "eval"}, {"step", state_.step}, {"timestamp", unix_seconds()}};
  const json flat = Evaluator::flatten(report);
  row.update(flat);
  metrics_->write(row);
  fs::create_directories(fs::path(run_dir_) / "evaluations");
  write_text_file_atomic((fs::path(run_dir_) / "evaluations" / fmt::format("step-{:08d}.json", state_.step)).string(), report.dump(2) + "\n");
  // Per-category rates, for TensorBoard only (metrics.jsonl keeps one flat row; evaluations/ has them all).
  for (const char* set : {"harmful", "benign"})
    if (report.contains(set) && report[set].contains("categories"))
      for (const auto& [category, rates] : report[set]["categories"].items())
        for (const auto& [key, value] : rates.items())
          if (key != "prompts") metrics_->scalar(fmt::format("eval_category/{}_{}/{}", set, key, category), value.get<double>(), state_.step);
  if (!generations.empty()) {
    metrics_->text("eval/generations", generations_markdown(generations), state_.step);
    std::string text;
    for (const auto& g : generations) text += g.dump() + "\n";
    fs::create_directories(fs::path(run_dir_) / "generations");
    write_text_file_atomic((fs::path(run_dir_) / "generations" / fmt::format("step-{:08d}.jsonl", state_.step)).string(), text);
  }
  progress_->message(eval_summary(state_.step, flat));
  return flat;
}

// Evaluates and checks the safety gate; returns the incident when the gate rejects the evaluation.
std::optional<Incident> TrainingRun::evaluate() {
  const json flat = measure();
  if (config_.gate.enabled && state_.step == 0) state_.baseline_refusal = flat.value("harmful_refusal_rate", std::nan(""));
  auto broken = config_.gate.enabled ? gate_violations(config_.gate, flat, state_.baseline_refusal) : std::vector<std::string>{};
  if (!broken.empty()) return Incident{state_.step, std::move(broken), flat};
  record_passing_eval(flat);
  return std::nullopt;
}

// A passing evaluation is a point the gate can return to, and may be the best so far: both keep a checkpoint.
void TrainingRun::record_passing_eval(const json& flat) {
  if (config_.gate.enabled) state_.last_passing_step = state_.step, checkpoint_wanted_ = true;
  const auto metric = config_.eval.best_metric;
  const char* name = enum_name(metric);
  if (metric != BestMetric::None && flat.contains(name) && is_better(metric, flat[name].get<double>(), state_.best_value)) {
    state_.best_step = state_.step;
    state_.best_value = flat[name].get<double>();
    checkpoint_wanted_ = true;
  }
}

// The gate's one transition: record the incident, then stop (gate.action=stop or too many incidents) or
// restore the last passing checkpoint with λ scaled up; metrics and checkpoints after it are discarded.
void TrainingRun::rewind_after(const Incident& incident) {
  const auto& gate = config_.gate;
  const int64_t incidents = state_.incidents + 1;
  const bool stop = gate.action == GateAction::Stop || incidents > gate.max_incidents;
  const double scale = stop ? state_.lambda_scale : state_.lambda_scale * gate.lambda_factor;
  json record{{"type", "incident"}, {"step", stop ? state_.step : state_.last_passing_step}, {"at_step", state_.step},
              {"violations", incident.violations}, {"eval", incident.eval}, {"action", stop ? "stop" : "increase_lambda"},
              {"restored_to", stop ? json(nullptr) : json(state_.last_passing_step)}, {"lambda_scale", scale},
              {"incident", incidents}};
  const auto incidents_path = (fs::path(run_dir_) / "incidents.jsonl").string();
  if (primary_)
    write_text_file_atomic(incidents_path, (fs::exists(incidents_path) ? read_text_file(incidents_path) : "") + record.dump() + "\n");
  progress_->message(fmt::format("safety gate: incident {} at step {}: {}", incidents, state_.step, fmt::join(incident.violations, "; ")));
  if (stop) {
    metrics_->write(record);
    progress_->finish();
    fail_runtime("safety gate: {} at step {} ({}); stopped. The last checkpoint that passed is step {}; see {}",
                 fmt::join(incident.violations, "; "), state_.step,
                 gate.action == GateAction::Stop ? "gate.action=stop" : fmt::format("more than gate.max_incidents={}", gate.max_incidents),
                 state_.last_passing_step, incidents_path);
  }
  state_ = load_checkpoint(CheckpointPaths::step_dir(run_dir_, state_.last_passing_step), model_, *trainable_, *optimizer_,
                           communicator_->rank());
  state_.incidents = incidents;
  state_.lambda_scale = scale;
  lambda_.load_state(state_.lambda_state, "the restored checkpoint");
  if (estimator_) estimator_->load_state(state_.penalty_state, "the restored checkpoint");
  communicator_->barrier();  // every process has read the checkpoint before the primary prunes the folder
  if (primary_) discard_checkpoints_after(run_dir_, state_.step);
  metrics_->rewind_to(state_.step, fmt::format("incident-{}-rolled-back", incidents));
  metrics_->write(record);
  last_checkpoint_ = state_.step;
  progress_->message(fmt::format("safety gate: restored step {}; λ is now scaled by {}", state_.step, scale));
}

// Before the first update: the gate's baseline check, or (eval.at_start) a plain evaluation that gives the
// report and the metrics their base point. It is no candidate for the best checkpoint: none is kept at step 0.
void TrainingRun::evaluate_base_model() {
  if (config_.gate.enabled) return check_base_model_passes_gate();
  if (has_eval_ && config_.eval.at_start) measure();
}

// The gate compares against the model before any update and needs a passing checkpoint to return to; a
// base model that already fails it cannot be trained under it.
void TrainingRun::check_base_model_passes_gate() {
  if (const auto incident = evaluate()) {
    progress_->finish();
    fail_runtime("safety gate: the base model already fails it before any update ({}); nothing was trained. Loosen "
                 "gate.max_toxicity_rate or gate.max_refusal_drop, or start from a safer model",
                 fmt::join(incident->violations, "; "));
  }
  save_checkpoint();
}

// ---- checkpoints, stopping, finishing ------------------------------------------------------------

// Weights that turned NaN or infinite (an update that overflowed) are never saved, so the newest checkpoint
// is always one a resume can train from.
void TrainingRun::check_weights_finite(const char* before) {
  const auto bad = non_finite_parameters(*model_);
  if (bad.empty()) return;
  progress_->finish();
  fail_runtime("the model's weights hold NaN or infinite values at step {} ({}{}); {} was not written. {}. Lower "
               "optim.lr or raise optim.eps", state_.step, bad.front(), bad.size() > 1 ? fmt::format(" and {} more", bad.size() - 1) : "",
               before, last_checkpoint_ >= 0 ? fmt::format("The last good checkpoint is step {}", last_checkpoint_)
                                             : std::string("No checkpoint was written yet"));
}

// The primary writes the checkpoint, with every process's generator state; the others wait until it is
// complete, so a stop leaves one consistent checkpoint for all of them.
void TrainingRun::save_checkpoint() {
  check_weights_finite("the checkpoint");
  state_.elapsed_s = elapsed_before_ + seconds_since(started_);
  const auto generators = communicator_->all_gather(torch_generator_state());
  const auto moments = optimizer_->state();  // gathered from every process when sharded
  if (primary_) {
    write_checkpoint(run_dir_, model_, *trainable_, moments, state_, tokenizer_files_, config_.checkpoint.keep_last,
                     {state_.best_step, state_.last_passing_step}, generators);
    if (state_.best_step >= 0)
      write_text_file_atomic((fs::path(CheckpointPaths::root(run_dir_)) / "best").string(),
                             fs::path(CheckpointPaths::step_dir(run_dir_, state_.best_step)).filename().string() + "\n");
  }
  communicator_->await_primary("");
  last_checkpoint_ = state_.step;
  checkpoint_wanted_ = false;
}

int TrainingRun::stop_with_checkpoint() {
  const bool scheduled = state_.step == config_.train.stop_at_step;
  if (last_checkpoint_ != state_.step) save_checkpoint();
  progress_->finish();
  const std::string why = scheduled ? "train.stop_at_step"
                          : stop_requested() ? fmt::format("signal {}", stop_signal())
                                             : std::string("a stop signal to another process of the run");
  fmt::print("train: stopped ({}) at step {}; checkpoint written, resume with --resume auto\n", why, state_.step);
  communicator_->barrier();  // the primary hosts the rendezvous store: it leaves last
  return static_cast<int>(ExitCode::interrupted);
}

int TrainingRun::finish() {
  progress_->finish();
  if (steps_this_process_ == 0) fmt::print("train: the run was already complete at step {}; rewriting final/\n", state_.step);
  if (state_.optimizer_steps == 0 && state_.skipped_nonfinite > 0)
    fail_runtime("every one of the {} updates was skipped as non-finite; final/ was not written. Lower optim.lr or check "
                 "the data", state_.skipped_nonfinite);
  if (estimator_) {
    const auto modules = estimator_->frozen_modules();
    for (size_t i = 0; i < modules.size(); ++i)
      ST_CHECK(parameters_sha256(*modules[i]) == frozen_hashes_[i],
               "the penalty scorer's weights changed during the run (SHA-256 {} at the start); it must stay frozen", frozen_hashes_[i]);
  }
  check_weights_finite("final/");
  const auto final_dir = (fs::path(run_dir_) / "final").string();
  if (primary_)
    trainable_->save(final_dir, model_, {dtype_from_config_name(enum_name(config_.model.save_dtype), "model.save_dtype"), 0, tokenizer_files_});
  communicator_->await_primary("");
  communicator_->barrier();  // the primary hosts the rendezvous store: it leaves last
  fmt::print("train: done, {} steps, {} loss tokens, {} skipped updates; final {} in {}\n", state_.step,
             state_.tokens_seen, state_.skipped_nonfinite, trainable_->saved_as(),
             final_dir);
  return 0;
}

}  // namespace st
