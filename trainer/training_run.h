// trainer/training_run.h — one `safetune train` run: set-up (inputs, run folder, model, optimizer, where to
// start), the loop (step, then log / evaluate / checkpoint / stop when their predicates say so), and the
// finish (final evaluation and checkpoint, frozen-classifier check, final/). The safety gate's
// restore-and-raise-λ is one transition, rewind_after(Incident), taken in one place of the loop.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/files.h"
#include "common/folder_lock.h"
#include "data/batcher.h"
#include "data/data_reader.h"
#include "data/tokenizer.h"
#include "losses/lambda_controller.h"
#include "losses/penalty_estimator.h"
#include "models/classifier_scoring.h"
#include "models/llama.h"
#include "trainer/checkpoint.h"
#include "trainer/communicator.h"
#include "trainer/config.h"
#include "trainer/eval/evaluation.h"
#include "trainer/optimizer.h"
#include "trainer/run_config.h"
#include "trainer/run_log.h"
#include "trainer/safety_mix.h"
#include "trainer/train_step.h"
#include "trainer/trainable_parameters.h"

namespace st {

// What the safety gate found wrong with an evaluation: the run rewinds (or stops) because of it.
struct Incident {
  int64_t at_step = 0;
  std::vector<std::string> violations;
  nlohmann::json eval;
};

class TrainingRun {
 public:
  // `resume`: auto | never | a checkpoint folder. The seams default to one process training what the config
  // says (every parameter, or LoRA adapters).
  TrainingRun(const Config& config, std::string resume, std::unique_ptr<TrainableParameters> trainable = nullptr,
              std::unique_ptr<Communicator> communicator = nullptr);
  ~TrainingRun();
  // The loop and the finish; returns the exit code (0 done, 75 stopped with a checkpoint). Failures throw.
  int run();

 private:
  using Clock = std::chrono::steady_clock;

  // set-up (trainer/run_setup.cpp)
  void primary_first(const std::function<void()>& work);
  void check_processes_agree();
  void seed_torch_generators();
  void read_data();
  void open_run_folder();
  void build_model_and_optimizer();
  void describe_trainable(const NamedTensors& params);
  void restore_checkpoint();
  void prepare_safety_mix();
  void describe_packing();
  void prepare_loop();

  // the loop
  StepResult take_step();
  void handle_nonfinite(const StepResult& r);
  bool log_due() const;
  bool eval_due() const;
  bool checkpoint_due() const;
  bool stop_due();
  void log_step(const StepResult& r);
  nlohmann::json measure();
  nlohmann::json measure_and_record();
  std::optional<Incident> evaluate();
  void evaluate_base_model();
  void record_passing_eval(const nlohmann::json& flat);
  void rewind_after(const Incident& incident);
  void check_weights_finite(const char* before);
  void save_checkpoint();
  int stop_with_checkpoint();
  void check_base_model_passes_gate();
  int finish();

  Config resolved_;  // the checked config as written to RUN_DIR/config.json
  RunConfig config_;
  std::string resume_, run_dir_;
  std::unique_ptr<FolderLock> lock_;  // one writer per run folder, held until the run object goes
  std::unique_ptr<TrainableParameters> trainable_;
  std::unique_ptr<Communicator> communicator_;
  bool primary_ = true;  // writes the run folder, metrics and progress; the others only train
  torch::Device device_{torch::kCPU};
  std::unique_ptr<Tokenizer> tokenizer_;
  std::vector<NamedFile> tokenizer_files_;  // tokenizer files and generation_config.json, copied into every checkpoint and final/
  LlamaConfig model_config_;
  DataRead train_data_;  // the training examples, and how they were read (hashes, cache)
  std::vector<Example> val_examples_;
  DataStats val_stats_;
  nlohmann::json inputs_, manifest_;
  std::string checkpoint_;  // where this process resumes from; empty for a fresh run

  LlamaForCausalLM model_{nullptr};
  std::unique_ptr<PenaltyEstimator> estimator_;
  std::shared_ptr<TextScorer> text_scorer_;  // the penalty's and the evaluations' scorer when they are the same model
  std::vector<std::string> frozen_hashes_;  // SHA-256 of each frozen module's weights at the start
  std::unique_ptr<AdamW> optimizer_;
  LambdaController lambda_;
  TrainingState state_;
  std::unique_ptr<SafetyMix> safety_mix_;
  std::unique_ptr<Batcher> batcher_;
  std::unique_ptr<Evaluator> evaluator_;
  bool has_eval_ = false;
  std::unique_ptr<MetricsLog> metrics_;
  std::unique_ptr<Progress> progress_;
  ScheduleOptions schedule_;
  StepOptions step_options_;

  Clock::time_point started_;
  double elapsed_before_ = 0;
  // The throughput window: training steps only (evaluation and checkpoints excluded), since the last log line.
  double window_step_s_ = 0, window_comm_s_ = 0;
  int64_t window_tokens_ = 0, window_input_tokens_ = 0, steps_this_process_ = 0, last_checkpoint_ = -1;
  double smoothed_loss_ = std::nan("");  // for the progress line only
  bool checkpoint_wanted_ = false;  // an evaluation passed the gate or set a new best: keep this step
  std::map<std::string, int64_t> step_safety_categories_;  // what the mixer drew into the current step
};

// Where a run trains: model.device resolved against what this machine has; CUDA device `local_rank`.
torch::Device pick_device(DeviceChoice wanted, int local_rank = 0);

}  // namespace st
