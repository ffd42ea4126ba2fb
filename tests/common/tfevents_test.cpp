// tests/common/tfevents_test.cpp — TensorBoard event files: CRC-32C against its published check value, every
// frame of a written file valid TFRecord, and TensorBoard's own reader (where the full environment has it)
// seeing every metric of a stopped and resumed run exactly once, as metrics.jsonl has it.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "common/files.h"
#include "common/tfevents.h"
#include "tests/test_util.h"

namespace st {
namespace {
namespace fs = std::filesystem;
using test::shell_quote;

uint32_t unmask(uint32_t masked) {
  const uint32_t rot = masked - 0xA282EAD8u;
  return (rot >> 17) | (rot << 15);
}

TEST(TfEvents, Crc32cCheckValueAndValidFrames) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);  // the CRC-32C check value (RFC 3720)
  test::TempDir dir;
  std::string path;
  {
    EventWriter w(dir.str());
    w.scalar("train/loss", 1.5, 3);
    w.text("eval/generations", "| a | b |", 4);
    w.session_start(5);
    path = w.path();
  }
  EXPECT_NE(fs::path(path).filename().string().find("events.out.tfevents."), std::string::npos);
  const std::string bytes = read_text_file(path);
  size_t at = 0, frames = 0;
  while (at < bytes.size()) {
    ASSERT_LE(at + 12, bytes.size());
    uint64_t length;
    uint32_t length_crc, data_crc;
    std::memcpy(&length, bytes.data() + at, 8);
    std::memcpy(&length_crc, bytes.data() + at + 8, 4);
    ASSERT_LE(at + 16 + length, bytes.size());
    std::memcpy(&data_crc, bytes.data() + at + 12 + length, 4);
    EXPECT_EQ(unmask(length_crc), crc32c(&length, 8));
    EXPECT_EQ(unmask(data_crc), crc32c(bytes.data() + at + 12, length));
    at += 16 + length;
    ++frames;
  }
  EXPECT_EQ(frames, 4u);  // file_version, scalar, text, session start
}

TEST(TfEvents, ReaderSeesEveryMetricOnceAcrossAResume) {
  const auto python = test::venv_python_with("tensorboard, numpy");
  if (python.empty()) GTEST_SKIP() << "needs .venv with the tensorboard package (pip install tensorboard)";
  test::TempDir dir;
  const auto config = dir / "run.json";
  write_text_file_atomic(config, fmt::format(R"({{
  "model": {{"path": "{}", "device": "cpu"}},
  "data": {{"train": "{}", "validation": "{}", "max_seq_len": 64}},
  "train": {{"output_dir": "run", "max_steps": 12, "batch_size": 4, "seed": 3}},
  "optim": {{"lr": 2e-3}}, "checkpoint": {{"every_steps": 4}},
  "eval": {{"every_steps": 4, "harmful": "{}", "max_new_tokens": 6}},
  "log": {{"every_steps": 1, "progress": "never"}}
}})", test::fixture("golden/gqa_default_rope"), test::fixture("train/train.jsonl"), test::fixture("train/validation.jsonl"),
                                             test::fixture("safety/harmful_eval.jsonl")));
  const auto run = dir / "run";
  // Stopped at step 6 after the step-4 checkpoint: steps 5-6 are logged twice, and the reader must keep one.
  auto r = test::run_safetune(test::train_command(config, run, "--set train.stop_at_step=6 --set checkpoint.every_steps=4"));
  ASSERT_EQ(r.exit_code, 75) << r.output;
  fs::remove_all(fs::path(run) / "checkpoints" / "step-00000006");
  write_text_file_atomic(fs::path(run) / "checkpoints" / "latest", "step-00000004\n");
  r = test::run_safetune(test::train_command(config, run));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = test::run_command(shell_quote(python) + " " + shell_quote(test::fixture("../../scripts/check_tensorboard.py")) + " " +
                        shell_quote(run));
  std::printf("[tensorboard reader] %s", r.output.c_str());
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

}  // namespace
}  // namespace st
