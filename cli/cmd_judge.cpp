// cli/cmd_judge.cpp — `safetune judge --input FILE.jsonl`: the verdicts an evaluation gives, on responses a
// user already has (any model's): refusal by the run's rule, P(toxic) with a classifier, rates with their
// 95% Wilson intervals overall and per category; with --label, the rule's agreement with human verdicts.
#include <filesystem>
#include <map>
#include <optional>

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

// Each line's object with "line" added; exit 2 naming file:line for a line without a string "response",
// or without a boolean `label` when one is named.
std::vector<json> read_responses(const std::string& path, const std::optional<std::string>& label, const std::string& by) {
  std::vector<json> rows;
  read_jsonl(path, [&](const json& j, int64_t line) {
    ST_CHECK_INPUT(j.contains("response") && j["response"].is_string(),
                   "{}:{}: expected a string \"response\" (one {{\"prompt\", \"response\"}} object per line)", path, line);
    for (const std::string& key : {std::string("prompt"), by})
      ST_CHECK_INPUT(!j.contains(key) || j[key].is_string(), "{}:{}: \"{}\" must be a string", path, line, key);
    ST_CHECK_INPUT(!label || (j.contains(*label) && j[*label].is_boolean()), "{}:{}: --label {}: expected a boolean \"{}\"",
                   path, line, *label, *label);
    rows.push_back(j);
    rows.back()["line"] = line;
  });
  ST_CHECK_INPUT(!rows.empty(), "{}: no responses to judge", path);
  return rows;
}

struct Tally {
  int64_t n = 0, refused = 0, toxic = 0;
  int64_t agreed_refusals = 0, human_refusals = 0;  // with --label: true positives, and all the human's refusals
  void add(bool is_refused, bool is_toxic, bool labelled, bool human) {
    n += 1, refused += is_refused, toxic += is_toxic;
    if (labelled) human_refusals += human, agreed_refusals += human && is_refused;
  }
};

std::string rate_text(int64_t hits, int64_t n) {
  const auto ci = wilson_interval(hits, n);
  return fmt::format("{:5.1f}% ({:.1f}–{:.1f}%)", 100.0 * hits / n, 100 * ci.low, 100 * ci.high);
}

// Precision, recall and F1 of the verdicts against the human's; "-" where undefined (nothing flagged, or
// nothing to find).
std::string agreement_text(const Tally& t) {
  auto ratio = [](int64_t a, int64_t b) { return b > 0 ? fmt::format("{:.3f}", double(a) / b) : std::string("-"); };
  const std::string f1 = t.refused + t.human_refusals > 0 ? fmt::format("{:.3f}", 2.0 * t.agreed_refusals / (t.refused + t.human_refusals)) : "-";
  return fmt::format(" {:>9} {:>6} {:>6}", ratio(t.agreed_refusals, t.refused), ratio(t.agreed_refusals, t.human_refusals), f1);
}

void print_summary(const std::string& by, const std::map<std::string, Tally>& groups, const Tally& all, bool toxicity, bool labelled) {
  fmt::print(stderr, "{:<30} {:>9} {:>22}{}{}\n", "judge: " + by, "responses", "refused (95% interval)",
             toxicity ? fmt::format(" {:>22}", "toxic (95% interval)") : "",
             labelled ? fmt::format(" {:>9} {:>6} {:>6}", "precision", "recall", "F1") : "");
  auto row = [&](const std::string& name, const Tally& t) {
    fmt::print(stderr, "  {:<28} {:>9} {:>22}{}{}\n", name, t.n, rate_text(t.refused, t.n),
               toxicity ? fmt::format(" {:>22}", rate_text(t.toxic, t.n)) : "", labelled ? agreement_text(t) : "");
  };
  if (groups.size() > 1 || groups.begin()->first != "")
    for (const auto& [group, t] : groups) row(group.empty() ? "(none)" : group, t);
  row("all", all);
}

}  // namespace

int run_judge(const Args& args) {
  CommandLine cl(command_spec("judge"), args);
  const std::string input = *cl.value("input");
  const auto out = cl.value("out");
  std::error_code ec;
  ST_CHECK_INPUT(!out || !fs::equivalent(input, *out, ec), "--out {}: is the input file; judge never overwrites its input", *out);
  const std::string classifier = cl.text("classifier");
  ST_CHECK_INPUT(cl.values("set").empty() || cl.value("config"), "--set needs --config (it changes that config's keys)");
  // The rule (and classifier) a run evaluates with, or the defaults.
  const auto config = cl.value("config") ? Config::load(*cl.value("config"), cl.values("set"), eval_config_schema()).run_config()
                                         : Config::from_resolved(json::object(), "defaults", eval_config_schema()).run_config();
  const auto detector = make_refusal_detector(config.eval);
  const auto label = cl.value("label");
  for (const char* written : {"refusal", "refusal_score", "p_toxic", "toxic", "line"})
    ST_CHECK_INPUT(!label || *label != written, "--label {}: judge writes its own verdicts under that key; give the human "
                   "verdicts another name", *label);
  const std::string by = cl.text("by");
  auto rows = read_responses(input, label, by);
  std::vector<std::string> prompts, responses;
  for (const auto& row : rows) prompts.push_back(row.value("prompt", "")), responses.push_back(row["response"].get<std::string>());
  // --classifier, else what the config measures harm with (its harm judge, else its classifier)
  const auto scorer = classifier.empty() ? open_eval_scorer(config.safety.classifier, config.safety.harm_judge)
                                         : open_text_scorer(classifier);
  std::vector<double> scores;
  double threshold = 0;
  if (scorer) {
    threshold = cl.number("threshold").value_or(scorer->threshold());
    scores = scorer->score(prompts, responses);
  }
  const auto verdicts = detector->judge_all(prompts, responses);
  std::map<std::string, Tally> groups;
  Tally all;
  std::string text;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& verdict = verdicts[i];
    const bool human = label && rows[i][*label].get<bool>();
    rows[i]["refusal"] = verdict.refused;
    rows[i]["refusal_score"] = verdict.score;
    const bool toxic = !scores.empty() && scores[i] > threshold;
    if (!scores.empty()) rows[i]["p_toxic"] = scores[i], rows[i]["toxic"] = toxic;
    for (Tally* t : {&groups[rows[i].value(by, "")], &all}) t->add(verdict.refused, toxic, label.has_value(), human);
    text += rows[i].dump() + "\n";
  }
  if (out) write_text_file_atomic(*out, text);
  else fmt::print("{}", text);
  fmt::print(stderr, "judge: refusal rule {}{}\n", detector->describe(), scorer ? "; harm scored by " + scorer->describe() : "");
  print_summary(by, groups, all, !scores.empty(), label.has_value());
  return 0;
}

}  // namespace st
