// cli/cmd_judge.cpp — `safetune judge --input FILE.jsonl`: the verdicts an evaluation gives, on responses a
// user already has (any model's): refusal by the run's rule, P(toxic) with a classifier, rates with their
// 95% Wilson intervals overall and per category.
#include <filesystem>
#include <map>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "common/check.h"
#include "common/files.h"
#include "common/json_file.h"
#include "trainer/config.h"
#include "trainer/eval/rate_interval.h"
#include "trainer/eval/refusal.h"
#include "trainer/text_scorer.h"

namespace st {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Each line's object with "line" added; exit 2 naming file:line for a line without a string "response".
std::vector<json> read_responses(const std::string& path) {
  std::vector<json> rows;
  read_jsonl(path, [&](const json& j, int64_t line) {
    ST_CHECK_INPUT(j.contains("response") && j["response"].is_string(),
                   "{}:{}: expected a string \"response\" (one {{\"prompt\", \"response\"}} object per line)", path, line);
    for (const char* key : {"prompt", "category"})
      ST_CHECK_INPUT(!j.contains(key) || j[key].is_string(), "{}:{}: \"{}\" must be a string", path, line, key);
    rows.push_back(j);
    rows.back()["line"] = line;
  });
  ST_CHECK_INPUT(!rows.empty(), "{}: no responses to judge", path);
  return rows;
}

struct Tally {
  int64_t n = 0, refused = 0, toxic = 0;
};

std::string rate_text(int64_t hits, int64_t n) {
  const auto ci = wilson_interval(hits, n);
  return fmt::format("{:5.1f}% ({:.1f}–{:.1f}%)", 100.0 * hits / n, 100 * ci.low, 100 * ci.high);
}

void print_summary(const std::map<std::string, Tally>& by_category, const Tally& all, bool toxicity) {
  fmt::print(stderr, "{:<20} {:>9} {:>22}{}\n", "judge: category", "responses", "refused (95% interval)",
             toxicity ? fmt::format(" {:>22}", "toxic (95% interval)") : "");
  auto row = [&](const std::string& name, const Tally& t) {
    fmt::print(stderr, "  {:<18} {:>9} {:>22}{}\n", name, t.n, rate_text(t.refused, t.n),
               toxicity ? fmt::format(" {:>22}", rate_text(t.toxic, t.n)) : "");
  };
  if (by_category.size() > 1 || by_category.begin()->first != "")
    for (const auto& [category, t] : by_category) row(category.empty() ? "(none)" : category, t);
  row("all", all);
}

}  // namespace

int run_judge(const Args& args) {
  CommandLine cl(command_spec("judge"), args);
  const std::string input = *cl.value("input");
  const auto out = cl.value("out");
  std::error_code ec;
  ST_CHECK_INPUT(!out || !fs::equivalent(input, *out, ec), "--out {}: is the input file; judge never overwrites its input", *out);
  std::vector<std::string> phrases = default_refusal_phrases();
  std::string classifier = cl.text("classifier");
  ST_CHECK_INPUT(cl.values("set").empty() || cl.value("config"), "--set needs --config (it changes that config's keys)");
  if (auto config_path = cl.value("config")) {  // the rule and classifier a run evaluates with
    const auto config = Config::load(*config_path, cl.values("set"), eval_config_schema()).run_config();
    phrases = config.eval.refusal_phrases;
    if (classifier.empty()) classifier = config.safety.classifier;
  }
  auto rows = read_responses(input);
  std::vector<std::string> responses;
  for (const auto& row : rows) responses.push_back(row["response"].get<std::string>());
  std::vector<double> scores;
  double threshold = 0;
  if (!classifier.empty()) {
    const auto scorer = open_text_scorer(classifier);
    threshold = cl.number("threshold").value_or(scorer->threshold());
    scores = scorer->score(responses);
  }
  std::map<std::string, Tally> by_category;
  Tally all;
  std::string text;
  for (size_t i = 0; i < rows.size(); ++i) {
    const bool refused = is_refusal(responses[i], phrases);
    rows[i]["refusal"] = refused;
    rows[i]["refusal_score"] = refused ? 1.0 : 0.0;  // the phrase rule is certain; an LM judge would give P(refusal)
    const bool toxic = !scores.empty() && scores[i] > threshold;
    if (!scores.empty()) rows[i]["p_toxic"] = scores[i], rows[i]["toxic"] = toxic;
    for (Tally* t : {&by_category[rows[i].value("category", "")], &all}) t->n += 1, t->refused += refused, t->toxic += toxic;
    text += rows[i].dump() + "\n";
  }
  if (out) write_text_file_atomic(*out, text);
  else fmt::print("{}", text);
  print_summary(by_category, all, !scores.empty());
  return 0;
}

}  // namespace st
