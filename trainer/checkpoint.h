// trainer/checkpoint.h — what must survive a restart (TrainingState), and checkpoints written atomically:
// a temp folder, every file fsynced, COMPLETE (with each file's SHA-256) written last, then renamed into
// place and `latest` replaced. Resume takes the newest checkpoint whose checksums verify.
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "common/files.h"
#include "data/batcher.h"
#include "models/llama.h"
#include "trainer/optimizer.h"
#include "trainer/trainable_parameters.h"

namespace st {

// Everything the loop needs to continue exactly; serialized as trainer_state.json with a format number
// that loading checks. Keys missing from an older checkpoint take these defaults.
struct TrainingState {
  int64_t step = 0;               // completed steps (updates applied or skipped)
  BatchCursor cursor;             // next micro-batch, in the global order of all processes
  int64_t micro_batches_per_step = 0;  // processes × train.grad_accum: what a step is (0 = not recorded)
  int64_t optimizer_steps = 0;    // AdamW's own count (skipped updates do not advance it)
  int64_t tokens_seen = 0;        // loss tokens trained on
  int64_t skipped_nonfinite = 0;  // steps whose update was skipped for NaN/Inf
  int64_t consecutive_skips = 0;  // of those, how many in a row up to this step
  double elapsed_s = 0;           // training time before this process
  double lambda = 0;              // current λ
  nlohmann::json lambda_state = nlohmann::json::object();  // the adaptive controller's log λ and window
  int64_t safety_draws = 0;       // safety examples drawn so far (the mixer's whole state)
  nlohmann::json penalty_state = nlohmann::json::object();  // the penalty estimator's own state
  double lambda_scale = 1.0;      // the safety gate multiplies λ by this after incidents
  int64_t incidents = 0;          // safety-gate incidents so far
  double baseline_refusal = std::nan("");  // harmful refusal rate at the step-0 evaluation
  int64_t last_passing_step = -1; // newest checkpoint whose evaluation passed the gate
  int64_t best_step = -1;         // checkpoint with the best eval.best_metric so far
  double best_value = std::nan("");

  nlohmann::json to_json() const;
  static TrainingState from_json(const nlohmann::json& j, const std::string& label);
  void check_ranges(const std::string& label) const;  // exit 2 naming the key of a value out of range
};

struct CheckpointPaths {
  static std::string root(const std::string& run_dir);                   // RUN/checkpoints
  static std::string step_dir(const std::string& run_dir, int64_t step);  // RUN/checkpoints/step-00000010
};

// Writes RUN/checkpoints/step-N, points `latest` at it and keeps the newest `keep_last` plus the
// steps in `protect` (the best and the last gate-passing checkpoints). `optimizer_state` is AdamW::state(),
// whole even when the moments are sharded over processes. `trainable` writes the weights it
// trains (a whole model folder, or a LoRA adapter folder); `tokenizer_files` (data/tokenizer.h
// tokenizer_files() of the model folder) are copied in, so a checkpoint is a complete folder of its kind.
std::string write_checkpoint(const std::string& run_dir, LlamaForCausalLM& model, const TrainableParameters& trainable,
                             const NamedTensors& optimizer_state,
                             const TrainingState& state, const std::vector<NamedFile>& tokenizer_files, int64_t keep_last,
                             const std::vector<int64_t>& protect = {}, const std::vector<std::string>& generators = {});

// The CPU generator's state as bytes: every process's goes into the checkpoint (`generators` above, in rank
// order; empty = this process's alone).
std::string torch_generator_state();

// Deletes checkpoints newer than `step` and points `latest` at step-N (after the gate restores it).
void discard_checkpoints_after(const std::string& run_dir, int64_t step);

// Checks COMPLETE and every checksum; returns the problem, or nullopt when the checkpoint is sound.
std::optional<std::string> verify_checkpoint(const std::string& dir);

struct ResumePoint {
  std::string dir;                   // empty when no usable checkpoint exists
  std::vector<std::string> skipped;  // "step-00000012: reason" for newer ones that were not usable
};
ResumePoint find_resume_checkpoint(const std::string& run_dir);

// Restores the trained weights (through `trainable`), optimizer moments and process `rank`'s CPU RNG;
// returns the TrainingState.
TrainingState load_checkpoint(const std::string& dir, LlamaForCausalLM& model, const TrainableParameters& trainable,
                              AdamW& optimizer, int rank = 0);

}  // namespace st
