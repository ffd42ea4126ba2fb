// trainer/run_log.h — what a run tells its user: metrics.jsonl (one JSON object per logged step and per
// evaluation, appended and flushed) and the progress display (a live line on a terminal, plain lines
// otherwise). The stop signals live in common/stop_signal.h.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <string>

#include "common/stop_signal.h"
#include "trainer/run_config.h"

namespace st {

class MetricsLog {
 public:
  explicit MetricsLog(const std::string& path);  // appends
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;
  void write(const nlohmann::json& record);
  // On resume: keep only records with step <= `step` (later ones were written after the checkpoint).
  static void truncate_after(const std::string& path, int64_t step);
  // The same on the open log (reopened on the rewritten file): the safety gate rewinds a run.
  void rewind_to(int64_t step);

 private:
  std::string path_;
  std::FILE* file_;
};

class Progress {
 public:
  Progress(ProgressMode mode, int64_t total_steps);
  void update(int64_t step, double loss, double tokens_per_s, double eta_s);
  void message(const std::string& line);  // a plain line that does not fight with the live one
  void finish();

 private:
  bool live_;
  bool dirty_ = false;
  int64_t total_;
};

}  // namespace st
