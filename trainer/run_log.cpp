// trainer/run_log.cpp — metrics file and progress display.
#include "trainer/run_log.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "common/check.h"
#include "common/files.h"

namespace st {

namespace {
// Every number in `record` (one level of nesting: safety_categories) as a scalar "<type>/<key>[/<sub>]".
void write_scalars(EventWriter& events, const nlohmann::json& record) {
  const std::string type = record.value("type", "metrics");
  const int64_t step = record.value("step", int64_t{0});
  for (const auto& [k, v] : record.items()) {
    if (k == "step" || k == "type" || k == "timestamp") continue;  // TensorBoard has each event's wall time
    if (v.is_number()) events.scalar(type + "/" + k, v.get<double>(), step);
    if (v.is_object())
      for (const auto& [sub, x] : v.items())
        if (x.is_number()) events.scalar(type + "/" + k + "/" + sub, x.get<double>(), step);
  }
}

// Every record of a metrics file; a line torn by a crash is skipped.
std::vector<nlohmann::json> read_records(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded()) out.push_back(std::move(j));
  }
  return out;
}
}  // namespace

MetricsLog::MetricsLog(const std::string& path, const std::string& tensorboard_dir, int64_t resumed_at)
    : path_(path), tensorboard_dir_(tensorboard_dir), file_(path.empty() ? nullptr : std::fopen(path.c_str(), "ab")) {
  ST_CHECK(path.empty() || file_ != nullptr, "{}: cannot open for appending", path);
  if (tensorboard_dir_.empty()) return;
  events_ = std::make_unique<EventWriter>(tensorboard_dir_);
  if (resumed_at >= 0) events_->session_start(resumed_at + 1);
}
MetricsLog::~MetricsLog() {
  if (file_ != nullptr) std::fclose(file_);
}

void MetricsLog::write(const nlohmann::json& record) {
  if (file_ == nullptr) return;
  const std::string line = record.dump() + "\n";
  write_all(file_, line.data(), line.size(), path_);
  std::fflush(file_);
  if (events_) write_scalars(*events_, record);
}

void MetricsLog::text(const std::string& tag, const std::string& markdown, int64_t step) {
  if (events_) events_->text(tag, markdown, step);
}

void MetricsLog::scalar(const std::string& tag, double value, int64_t step) {
  if (events_) events_->scalar(tag, value, step);
}

void MetricsLog::rewind_to(int64_t step, const std::string& attempt) {
  if (file_ == nullptr) return;
  std::vector<nlohmann::json> dropped;
  for (auto& record : read_records(path_))
    if (record.value("step", int64_t{0}) > step) dropped.push_back(std::move(record));
  if (events_) {
    EventWriter attempt_events((std::filesystem::path(tensorboard_dir_) / attempt).string());
    for (const auto& record : dropped) write_scalars(attempt_events, record);
    events_->session_start(step + 1);
  }
  // The dropped rows stay readable beside metrics.jsonl, marked with their attempt (the report draws them).
  const auto kept_path = (std::filesystem::path(path_).parent_path() / "rolled_back.jsonl").string();
  std::string text = std::filesystem::exists(kept_path) ? read_text_file(kept_path) : "";
  for (auto& record : dropped) record["attempt"] = attempt, text += record.dump() + "\n";
  write_text_file_atomic(kept_path, text);
  std::fclose(file_);
  truncate_after(path_, step);
  file_ = std::fopen(path_.c_str(), "ab");
  ST_CHECK(file_ != nullptr, "{}: cannot open for appending", path_);
}

void MetricsLog::truncate_after(const std::string& path, int64_t step) {
  if (!std::filesystem::exists(path)) return;
  std::string kept;
  for (const auto& record : read_records(path))
    if (record.value("step", int64_t{0}) <= step) kept += record.dump() + "\n";
  write_text_file_atomic(path, kept);
}

namespace {
std::string clock(double seconds) {
  const auto s = static_cast<int64_t>(seconds < 0 ? 0 : seconds);
  return s >= 3600 ? fmt::format("{}:{:02d}:{:02d}", s / 3600, (s / 60) % 60, s % 60) : fmt::format("{}:{:02d}", s / 60, s % 60);
}
}  // namespace

Progress::Progress(ProgressMode mode, int64_t total_steps)
    : live_(mode == ProgressMode::Always || (mode == ProgressMode::Auto && ::isatty(STDERR_FILENO))), total_(total_steps) {}

void Progress::update(const ProgressLine& p) {
  std::string text = fmt::format("step {}/{}  loss {:.4f} (smoothed)  {:.0f} tok/s ({:.0f} in the loss)", p.step, total_,
                                 p.smoothed_loss, p.input_tokens_per_s, p.loss_tokens_per_s);
  if (!std::isnan(p.lambda)) text += fmt::format("  λ {:.3g}  P(toxic) {:.3f}", p.lambda, p.p_toxic);
  text += fmt::format("  elapsed {}  ETA {}", clock(p.elapsed_s), clock(p.eta_s));
  if (live_) return status(text);
  fmt::print("{}\n", text);
  std::fflush(stdout);
}

void Progress::status(const std::string& text) {
  if (!live_) return;
  fmt::print(stderr, "\r\033[K{}", text);
  std::fflush(stderr);
  dirty_ = true;
}

void Progress::message(const std::string& line) {
  if (dirty_) fmt::print(stderr, "\r\033[K");
  fmt::print("{}\n", line);
  std::fflush(stdout);
  dirty_ = false;
}

void Progress::finish() {
  if (dirty_) fmt::print(stderr, "\n");
  dirty_ = false;
}

}  // namespace st
