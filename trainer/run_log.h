// trainer/run_log.h — what a run tells its user: metrics.jsonl (one JSON object per logged step and per
// evaluation, appended and flushed) mirrored into TensorBoard event files and the progress display (a live line on a terminal, plain lines
// otherwise). The stop signals live in common/stop_signal.h.
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "common/stop_signal.h"
#include "common/tfevents.h"
#include "trainer/run_config.h"

namespace st {

class MetricsLog {
 public:
  // Appends to `path`. With `tensorboard_dir`, every number of every record also becomes a TensorBoard
  // scalar "<type>/<key>" at the record's step. `resumed_at` >= 0: a resumed run, which tells TensorBoard
  // to drop what the earlier process logged after that step. An empty `path` writes nothing (the
  // non-primary processes of a data-parallel run).
  explicit MetricsLog(const std::string& path, const std::string& tensorboard_dir = "", int64_t resumed_at = -1);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;
  void write(const nlohmann::json& record);
  // A Markdown text for TensorBoard's Text tab, and a TensorBoard-only scalar (nothing without TensorBoard).
  void text(const std::string& tag, const std::string& markdown, int64_t step);
  void scalar(const std::string& tag, double value, int64_t step);
  // On resume: keep only records with step <= `step` (later ones were written after the checkpoint).
  static void truncate_after(const std::string& path, int64_t step);
  // The same on the open log, when the safety gate rewinds the run. The records it drops stay visible:
  // in rolled_back.jsonl beside the log (each with "attempt"), and in TensorBoard as tensorboard/<attempt>.
  void rewind_to(int64_t step, const std::string& attempt);

 private:
  std::string path_, tensorboard_dir_;
  std::FILE* file_;
  std::unique_ptr<EventWriter> events_;
};

// What the progress line shows after a logged step.
struct ProgressLine {
  int64_t step = 0;
  double smoothed_loss = 0;
  double input_tokens_per_s = 0;  // every token the step processed (prompts, responses, safety rows; no padding)
  double loss_tokens_per_s = 0;   // the tokens in the loss
  double elapsed_s = 0, eta_s = 0;
  double lambda = std::nan(""), p_toxic = std::nan("");  // shown when a penalty estimator is on
};

class Progress {
 public:
  Progress(ProgressMode mode, int64_t total_steps);
  void update(const ProgressLine& line);
  void message(const std::string& line);  // a plain line that does not fight with the live one
  void status(const std::string& text);   // replaces the live line (a terminal only): "evaluating 12/48 prompts"
  void finish();

 private:
  bool live_;
  bool dirty_ = false;
  int64_t total_;
};

}  // namespace st
