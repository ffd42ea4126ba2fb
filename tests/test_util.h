// tests/test_util.h — helpers shared by the test suites: fixture paths, temp folders, running the
// safetune binary, and expecting an st::Error with a given exit code and message fragment.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>

#include "common/check.h"
#include "common/files.h"
#include "data/sentencepiece_tokenizer.h"
#include "models/toxicity_classifier.h"

namespace st::test {

inline std::string fixture(const std::string& relative) { return std::string(SAFETUNE_FIXTURES) + "/" + relative; }

// SmolLM2-135M-Instruct as scripts/get_smollm2 writes it (scripts/test runs that), or $SAFETUNE_SMOLLM2.
// Tests that need it skip when it is absent.
inline std::string smollm2_folder() {
  const char* env = std::getenv("SAFETUNE_SMOLLM2");
  return env ? env : fixture("../../downloads/SmolLM2-135M-Instruct");
}

// The 256-piece test tokenizer (tests/fixtures/tokenizer), loaded once.
inline const Tokenizer& fixture_tokenizer() {
  static const SentencePieceTokenizer tokenizer(fixture("tokenizer/tokenizer.model"));
  return tokenizer;
}

// A fresh folder under the system temp dir, removed when the test ends.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    // The pid keeps two suites running at once (two checkouts, or ctest -j) out of each other's folders.
    std::string name = std::string("safetune-") + (info ? info->test_suite_name() : "t") + "-" + (info ? info->name() : "x") +
                       "-" + std::to_string(::getpid());
    for (auto& c : name)
      if (c == '/') c = '_';
    path_ = std::filesystem::temp_directory_path() / name;
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string str() const { return path_.string(); }
  std::string operator/(const std::string& child) const { return (path_ / child).string(); }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command line, capturing everything it prints.
inline CommandResult run_command(const std::string& command_line) {
  CommandResult r;
  const std::string cmd = command_line + " 2>&1";
  std::FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) r.output.append(buf, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// Runs `safetune ARGS` through the shell, capturing everything it prints.
inline CommandResult run_safetune(const std::string& args) { return run_command(std::string(SAFETUNE_BIN) + " " + args); }

inline std::string shell_quote(const std::string& s);

// The project's .venv Python when it can import `modules` ("peft, transformers"): the full environment
// (scripts/setup --full) that reference checks need. Empty where it cannot, as in CI's lean install.
inline std::string venv_python_with(const std::string& modules) {
  const auto python = std::filesystem::path(SAFETUNE_FIXTURES).parent_path().parent_path() / ".venv" / "bin" / "python";
  if (!std::filesystem::exists(python)) return "";
  const auto probe = shell_quote(python.string()) + " -c 'import " + modules + "' >/dev/null 2>&1";
  return std::system(probe.c_str()) == 0 ? python.string() : "";
}

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Expects `fn` to throw st::Error with `code` and a message containing `fragment`.
inline void expect_error(const std::function<void()>& fn, ExitCode code, const std::string& fragment) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(static_cast<int>(e.code()), static_cast<int>(code)) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos)
        << "message: " << e.what() << "\nexpected fragment: " << fragment;
    return;
  }
  ADD_FAILURE() << "expected an st::Error containing '" << fragment << "'";
}

// metrics.jsonl without its wall-clock fields: what must be identical between two runs.
inline std::vector<nlohmann::json> deterministic_metrics(const std::string& run_dir) {
  std::vector<nlohmann::json> out;
  std::ifstream in(std::filesystem::path(run_dir) / "metrics.jsonl");
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    j.erase("elapsed_s");
    j.erase("tokens_per_s");
    j.erase("input_tokens_per_s");
    j.erase("timestamp");
    j.erase("cpu_s");
    j.erase("comm_s");
    j.erase("comm_share");
    out.push_back(j);
  }
  return out;
}

// Every line of a JSONL file, parsed.
inline std::vector<nlohmann::json> read_jsonl_file(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

// "train --config CONFIG --set train.output_dir=OUT EXTRA", for run_safetune.
inline std::string train_command(const std::string& config, const std::string& out, const std::string& extra = "") {
  return "train --config " + shell_quote(config) + " --set train.output_dir=" + shell_quote(out) + " " + extra;
}

// A small toxicity classifier (one layer, hidden 32) on `tokenizer`, trained on the bundled labelled data
// into DIR/classifier.
inline void train_classifier(const std::string& dir, const std::string& tokenizer) {
  const auto path = std::filesystem::path(dir);
  write_text_file_atomic((path / "arch.json").string(), R"({"vocab_size": 256, "hidden_size": 32, "intermediate_size": 64,
    "num_hidden_layers": 1, "num_attention_heads": 2, "num_key_value_heads": 1, "max_position_embeddings": 256})");
  write_text_file_atomic((path / "cls.json").string(), fmt::format(R"({{
    "classifier": {{"tokenizer": "{}", "architecture": "arch.json"}}, "data": {{"train": "{}"}},
    "train": {{"output_dir": "classifier", "max_steps": 300, "batch_size": 32, "seed": 1}},
    "optim": {{"lr": 3e-3}}, "log": {{"every_steps": 1000}}}})", tokenizer, fixture("safety/labelled.jsonl")));
  const auto r = run_safetune("train-classifier --config " + shell_quote((path / "cls.json").string()));
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

// DIR/toxic_task.jsonl: the fixture's prompt/completion task data with 40% of the responses unsafe placeholders.
inline void write_toxic_task(const std::string& dir) {
  std::ifstream in(fixture("train/train.jsonl"));
  std::ofstream out(std::filesystem::path(dir) / "toxic_task.jsonl");
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    if (!j.contains("prompt")) continue;
    if (n++ % 5 < 2) j["completion"] = "Okay, listen: [UNSAFE HARASSMENT PLACEHOLDER: demeaning insult aimed at the user]";
    out << j.dump() << "\n";
  }
}

inline std::string final_weights(const std::string& run_dir) {
  return read_text_file((std::filesystem::path(run_dir) / "final" / "model.safetensors").string());
}

// A frozen two-layer classifier on a `vocab`-piece vocabulary with fixed random weights (seed 7): P(toxic) near
// 0.5 and a gradient for its input, for tests of what reads a classifier.
inline ToxicityClassifier tiny_classifier(int64_t vocab, torch::ScalarType dtype = torch::kFloat32) {
  const nlohmann::json j = {{"architectures", {"SafetuneToxicityClassifier"}}, {"model_type", "llama"},
                            {"vocab_size", vocab}, {"hidden_size", 16}, {"intermediate_size", 32}, {"num_hidden_layers", 2},
                            {"num_attention_heads", 2}, {"num_key_value_heads", 1}, {"initializer_range", 0.4},
                            {"safetune_classifier", {{"categories", {"violence", "privacy"}}}}};
  ToxicityClassifier c(ClassifierConfig::from_json(j, "tiny"));
  c->init_weights(7);
  c->to(dtype);
  c->eval();
  for (auto& p : c->parameters()) p.set_requires_grad(false);
  return c;
}

}  // namespace st::test
