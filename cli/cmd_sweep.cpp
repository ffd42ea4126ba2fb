// cli/cmd_sweep.cpp — `safetune sweep --config FILE --grid key=v1,v2,... [--grid ...] [--set key=value]...`:
// one training run per combination of the grids' values, each a child `safetune train` process (isolated,
// resumable on its own) writing to a sibling folder `<train.output_dir>.<key>=<value>[,<key2>=<value2>...]`,
// then a table of final CE, validation CE and mean P(toxic) per run, also written as
// `<train.output_dir>.sweep.json`.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/ranges.h>

#include "common/check.h"
#include "common/files.h"
#include "common/json_file.h"
#include "common/stop_signal.h"
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
  // The child gets a process group of its own: a Ctrl-C at the terminal reaches only the sweep, which
  // passes it on once (two would make the child exit without its checkpoint).
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, cargv[0], nullptr, &attr, cargv.data(), environ);
  posix_spawnattr_destroy(&attr);
  ST_CHECK(spawned == 0, "sweep: cannot start {}", argv[0]);
  forward_stop_signals_to(pid);
  if (stop_requested()) ::kill(pid, stop_signal());  // a signal that came while it was starting
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  forward_stop_signals_to(0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Final train CE, the last evaluation's validation CE and safety rates, and mean P(toxic) over the last tenth
// of the logged steps.
json summarize(const std::string& run_dir) {
  std::ifstream in(fs::path(run_dir) / "metrics.jsonl");
  std::vector<json> train;
  json eval = nullptr;
  for (std::string line; std::getline(in, line);) {
    std::string error;
    const auto j = try_parse_json(line, error);
    if (!j || !j->is_object()) continue;  // a line cut short by a crash
    if ((*j)["type"] == "train") train.push_back(*j);
    if ((*j)["type"] == "eval") eval = *j;
  }
  auto last_eval = [&](const char* key) { return eval.is_object() ? eval.value(key, json()) : json(); };
  json out = {{"run", run_dir}, {"final_ce", nullptr}, {"val_ce", last_eval("val_ce")},
              {"harmful_refusal_rate", last_eval("harmful_refusal_rate")}, {"harmful_toxicity_rate", last_eval("harmful_toxicity_rate")},
              {"benign_over_refusal_rate", last_eval("benign_over_refusal_rate")}, {"mean_p_toxic", nullptr}};
  if (train.empty()) return out;
  out["final_ce"] = train.back()["ce"];
  const size_t tail = std::max<size_t>(1, train.size() / 10);
  double p = 0;
  for (size_t i = train.size() - tail; i < train.size(); ++i) p += train[i].value("p_toxic", 0.0);
  out["mean_p_toxic"] = p / static_cast<double>(tail);
  return out;
}

std::string cell(const json& v) { return v.is_number() ? fmt::format("{:.4f}", v.get<double>()) : "-"; }
std::string percent_cell(const json& v) { return v.is_number() ? fmt::format("{:.1f}%", 100 * v.get<double>()) : "-"; }

// One --grid: a config key and the values it takes.
struct GridAxis {
  std::string key;
  std::vector<std::string> values;
};

GridAxis parse_grid(const std::string& grid) {
  const auto eq = grid.find('=');
  ST_CHECK_INPUT(eq != std::string::npos && eq > 0 && eq + 1 < grid.size(), "--grid {}: expected key=v1,v2,...", grid);
  GridAxis axis{grid.substr(0, eq), {}};
  for (size_t start = eq + 1; start <= grid.size();) {
    const size_t comma = std::min(grid.find(',', start), grid.size());
    axis.values.push_back(grid.substr(start, comma - start));
    ST_CHECK_INPUT(!axis.values.back().empty(), "--grid {}: empty value", grid);
    start = comma + 1;
  }
  return axis;
}

std::vector<GridAxis> parse_grids(const std::vector<std::string>& grids) {
  std::vector<GridAxis> axes;
  for (const auto& grid : grids) {
    axes.push_back(parse_grid(grid));
    for (size_t i = 0; i + 1 < axes.size(); ++i)
      ST_CHECK_INPUT(axes[i].key != axes.back().key, "sweep: --grid {} is given twice; put all its values in one --grid",
                     axes.back().key);
  }
  return axes;
}

// One run of the sweep: a value for each grid key, in --grid order.
using GridPoint = std::vector<std::pair<std::string, std::string>>;

// Every combination of the axes' values, the first --grid varying slowest (as nested loops would).
std::vector<GridPoint> grid_product(const std::vector<GridAxis>& axes) {
  std::vector<GridPoint> points = {{}};
  for (const auto& axis : axes) {
    std::vector<GridPoint> extended;
    for (const auto& point : points)
      for (const auto& value : axis.values) {
        extended.push_back(point);
        extended.back().emplace_back(axis.key, value);
      }
    points = std::move(extended);
  }
  return points;
}

// "key=value" pairs joined by `separator`: "," in folder names (Hydra's override_dirname style; a single
// grid gives "safety.lambda=0", the name it always had), ", " with `spaced` in progress lines.
std::string describe(const GridPoint& point, const std::string& separator, bool spaced = false) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : point) parts.push_back(key + (spaced ? " = " : "=") + value);
  return fmt::format("{}", fmt::join(parts, separator));
}

std::vector<std::string> with_grid_sets(std::vector<std::string> sets, const GridPoint& point) {
  for (const auto& [key, value] : point) sets.push_back(key + "=" + value);
  return sets;
}

// The table: one column per grid key, then the run's numbers.
void print_table(const std::vector<GridAxis>& axes, const json& rows) {
  std::vector<size_t> widths;
  std::string header;
  for (const auto& axis : axes) {
    size_t width = std::max<size_t>(16, axis.key.size());
    for (const auto& v : axis.values) width = std::max(width, v.size());
    widths.push_back(width);
    header += fmt::format("{:<{}} ", axis.key, width);
  }
  fmt::print("\n{}{:>10} {:>10} {:>9} {:>9} {:>13} {:>13}  {}\n", header, "final CE", "val CE", "refusal", "toxicity",
             "over-refusal", "mean P(toxic)", "run");
  for (const auto& r : rows) {
    std::string values;
    for (size_t k = 0; k < axes.size(); ++k) values += fmt::format("{:<{}} ", r[axes[k].key].get<std::string>(), widths[k]);
    fmt::print("{}{:>10} {:>10} {:>9} {:>9} {:>13} {:>13}  {}{}\n", values, cell(r["final_ce"]), cell(r["val_ce"]),
               percent_cell(r["harmful_refusal_rate"]), percent_cell(r["harmful_toxicity_rate"]),
               percent_cell(r["benign_over_refusal_rate"]), cell(r["mean_p_toxic"]),
               r["run"].get<std::string>(),
               r["exit_code"] == 0 ? "" : fmt::format("  (failed, exit {})", r["exit_code"].get<int>()));
  }
}

}  // namespace

int run_sweep(const Args& args) {
  install_stop_handlers();  // first: a signal at any point stops the sweep cleanly (and its running child)
  CommandLine cl(command_spec("sweep"), args);
  const std::string config_file = *cl.value("config");
  const auto axes = parse_grids(cl.values("grid"));
  const auto points = grid_product(axes);
  // Every run's config is validated before the first one starts: a typo fails in seconds, not hours.
  const std::vector<std::string> base_sets = cl.values("set");
  std::vector<std::string> run_dirs;
  for (const auto& point : points)
    run_dirs.push_back(Config::load(config_file, with_grid_sets(base_sets, point)).run_config().train.output_dir + "." +
                       describe(point, ","));
  const std::string base_dir = Config::load(config_file, base_sets).run_config().train.output_dir;

  json rows = json::array();
  for (size_t i = 0; i < points.size(); ++i) {
    if (stop_requested()) {
      fmt::print("sweep: stopped by signal {} before {}; run the same command again to resume\n", stop_signal(),
                 describe(points[i], ", ", true));
      return static_cast<int>(ExitCode::interrupted);
    }
    fmt::print("sweep: {} -> {}\n", describe(points[i], ", ", true), run_dirs[i]);
    std::fflush(stdout);
    std::vector<std::string> child = {"train", "--config", config_file, "--resume", cl.text("resume")};
    for (const auto& s : with_grid_sets(base_sets, points[i])) child.insert(child.end(), {"--set", s});
    child.insert(child.end(), {"--set", "train.output_dir=" + run_dirs[i]});
    const int code = run_child(child);
    if (code == static_cast<int>(ExitCode::interrupted)) {
      fmt::print("sweep: stopped during {}; run the same command again to resume\n", describe(points[i], ", ", true));
      return code;
    }
    json row = summarize(run_dirs[i]);
    for (const auto& [key, value] : points[i]) row[key] = value;
    if (axes.size() == 1) row["value"] = points[i][0].second;  // the single-grid file as it always was
    row["exit_code"] = code;
    rows.push_back(row);
  }
  print_table(axes, rows);
  json summary = {{"keys", json::array()}, {"runs", rows}};
  for (const auto& axis : axes) summary["keys"].push_back(axis.key);
  if (axes.size() == 1) summary["key"] = axes[0].key;
  write_text_file_atomic(base_dir + ".sweep.json", summary.dump(2) + "\n");
  bool failed = false;
  for (const auto& r : rows) failed = failed || r["exit_code"] != 0;
  return failed ? static_cast<int>(ExitCode::failure) : 0;
}

}  // namespace st
