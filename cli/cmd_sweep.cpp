// cli/cmd_sweep.cpp — `safetune sweep --config FILE --grid key=v1,v2,... [--set key=value]...`: one
// training run per value, each a child `safetune train` process (isolated, resumable on its own) writing to
// a sibling folder `<train.output_dir>.<key>=<value>`, then a table of final CE, validation CE and mean
// P(toxic) per value, also written as `<train.output_dir>.sweep.json`.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/check.h"
#include "common/files.h"
#include "cli/command_line.h"
#include "cli/commands.h"
#include "trainer/config.h"

extern char** environ;

namespace st {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

int run_child(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {fs::read_symlink("/proc/self/exe").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = -1;
  ST_CHECK(posix_spawn(&pid, cargv[0], nullptr, nullptr, cargv.data(), environ) == 0, "sweep: cannot start {}", argv[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Final train CE, last validation CE and mean P(toxic) over the last tenth of the logged steps.
json summarize(const std::string& run_dir) {
  std::ifstream in(fs::path(run_dir) / "metrics.jsonl");
  std::vector<json> train;
  json eval = nullptr;
  for (std::string line; std::getline(in, line);) {
    const auto j = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) continue;
    if (j["type"] == "train") train.push_back(j);
    if (j["type"] == "eval") eval = j;
  }
  json out = {{"run", run_dir}, {"final_ce", nullptr}, {"val_ce", eval.is_null() ? json(nullptr) : eval["val_ce"]},
              {"mean_p_toxic", nullptr}};
  if (train.empty()) return out;
  out["final_ce"] = train.back()["ce"];
  const size_t tail = std::max<size_t>(1, train.size() / 10);
  double p = 0;
  for (size_t i = train.size() - tail; i < train.size(); ++i) p += train[i].value("p_toxic", 0.0);
  out["mean_p_toxic"] = p / static_cast<double>(tail);
  return out;
}

std::string cell(const json& v) { return v.is_number() ? fmt::format("{:.4f}", v.get<double>()) : "-"; }

}  // namespace

int run_sweep(const Args& args) {
  CommandLine cl(command_spec("sweep"), args);
  const std::string config_file = *cl.value("config"), grid = *cl.value("grid");
  const auto eq = grid.find('=');
  ST_CHECK_INPUT(eq != std::string::npos && eq > 0 && eq + 1 < grid.size(), "--grid {}: expected key=v1,v2,...", grid);
  const std::string key = grid.substr(0, eq);
  std::vector<std::string> values;
  for (size_t start = eq + 1; start <= grid.size();) {
    const size_t comma = std::min(grid.find(',', start), grid.size());
    values.push_back(grid.substr(start, comma - start));
    ST_CHECK_INPUT(!values.back().empty(), "--grid {}: empty value", grid);
    start = comma + 1;
  }
  // Every run's config is validated before the first one starts: a typo fails in seconds, not hours.
  std::vector<std::string> base_sets = cl.values("set");
  std::vector<std::string> run_dirs;
  for (const auto& v : values) {
    auto sets = base_sets;
    sets.push_back(key + "=" + v);
    const auto c = Config::load(config_file, sets);
    run_dirs.push_back(c.string("train.output_dir") + "." + key + "=" + v);
  }
  const std::string base_dir = Config::load(config_file, base_sets).string("train.output_dir");

  json rows = json::array();
  for (size_t i = 0; i < values.size(); ++i) {
    fmt::print("sweep: {} = {} -> {}\n", key, values[i], run_dirs[i]);
    std::fflush(stdout);
    std::vector<std::string> child = {"train", "--config", config_file, "--resume", cl.text("resume")};
    for (const auto& s : base_sets) child.insert(child.end(), {"--set", s});
    child.insert(child.end(), {"--set", key + "=" + values[i], "--set", "train.output_dir=" + run_dirs[i]});
    const int code = run_child(child);
    if (code == static_cast<int>(ExitCode::interrupted)) {
      fmt::print("sweep: stopped during {} = {}; run the same command again to resume\n", key, values[i]);
      return code;
    }
    json row = summarize(run_dirs[i]);
    row["value"] = values[i];
    row["exit_code"] = code;
    rows.push_back(row);
  }
  fmt::print("\n{:<16} {:>10} {:>10} {:>13}  {}\n", key, "final CE", "val CE", "mean P(toxic)", "run");
  bool failed = false;
  for (const auto& r : rows) {
    failed = failed || r["exit_code"] != 0;
    fmt::print("{:<16} {:>10} {:>10} {:>13}  {}{}\n", r["value"].get<std::string>(), cell(r["final_ce"]), cell(r["val_ce"]),
               cell(r["mean_p_toxic"]), r["run"].get<std::string>(),
               r["exit_code"] == 0 ? "" : fmt::format("  (failed, exit {})", r["exit_code"].get<int>()));
  }
  write_text_file_atomic(base_dir + ".sweep.json", json{{"key", key}, {"runs", rows}}.dump(2) + "\n");
  return failed ? static_cast<int>(ExitCode::failure) : 0;
}

}  // namespace st
