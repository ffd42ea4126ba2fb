// trainer/eval/report.cpp — what `safetune report` shows: a run folder read back (metrics, evaluations,
// generations, incidents, rolled-back attempts) and turned into tables and charts, one section each.
#include "trainer/eval/report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <regex>
#include <set>

#include <fmt/ranges.h>

#include "common/check.h"
#include "common/json_file.h"

namespace st {
namespace fs = std::filesystem;
using json = nlohmann::json;

// ---- reading a run folder -------------------------------------------------------------------------

namespace {
std::vector<json> jsonl_rows(const fs::path& path) {
  std::vector<json> rows;
  if (fs::exists(path)) read_jsonl(path.string(), [&](const json& j, int64_t) { rows.push_back(j); });
  return rows;
}

// step-00000040.json / .jsonl files of a folder, by step.
std::map<int64_t, fs::path> step_files(const fs::path& dir, const std::string& extension) {
  std::map<int64_t, fs::path> out;
  static const std::regex name(R"(step-(\d+)\.\w+)");
  std::smatch m;
  if (!fs::is_directory(dir)) return out;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string file = entry.path().filename().string();
    if (entry.path().extension() == extension && std::regex_match(file, m, name)) out[std::stoll(m[1])] = entry.path();
  }
  return out;
}
std::map<int64_t, fs::path> first_and_last(const std::map<int64_t, fs::path>& files) {
  if (files.empty()) return {};
  return {*files.begin(), *files.rbegin()};
}
}  // namespace

RunRecord read_run(const std::string& dir) {
  RunRecord r;
  const fs::path root(dir);
  r.dir = dir;
  r.name = root.lexically_normal().filename().string();
  if (r.name.empty()) r.name = root.lexically_normal().parent_path().filename().string();
  ST_CHECK_INPUT(fs::exists(root / "metrics.jsonl"), "{}: not a run folder (no metrics.jsonl)", dir);
  r.config = fs::exists(root / "config.json") ? read_json_file((root / "config.json").string()) : json::object();
  r.manifest = fs::exists(root / "manifest.json") ? read_json_file((root / "manifest.json").string()) : json::object();
  for (auto& row : jsonl_rows(root / "metrics.jsonl")) {
    const auto type = row.value("type", std::string());
    if (type == "train") r.train.push_back(std::move(row));
    else if (type == "eval") r.eval.push_back(std::move(row));
  }
  r.incidents = jsonl_rows(root / "incidents.jsonl");
  r.rolled_back = jsonl_rows(root / "rolled_back.jsonl");
  // The first evaluation (the base model's at step 0) and the last: what the category charts and the
  // sample table compare. The ones between are not read.
  for (const auto& [step, path] : first_and_last(step_files(root / "evaluations", ".json")))
    r.evaluations[step] = read_json_file(path.string());
  for (const auto& [step, path] : first_and_last(step_files(root / "generations", ".jsonl"))) r.generations[step] = jsonl_rows(path);
  return r;
}

// ---- small helpers ---------------------------------------------------------------------------------

namespace {
double value_at(const json& row, const char* key) {
  return row.contains(key) && row[key].is_number() ? row[key].get<double>() : std::nan("");
}
double last_value(const std::vector<json>& rows, const char* key) {
  for (auto it = rows.rbegin(); it != rows.rend(); ++it)
    if (!std::isnan(value_at(*it, key))) return value_at(*it, key);
  return std::nan("");
}
// The evaluation of the base model, before any update (eval.at_start, or the safety gate's first check).
const json* base_eval(const RunRecord& r) {
  return !r.eval.empty() && r.eval.front().value("step", -1) == 0 ? &r.eval.front() : nullptr;
}
// "full" (every weight) or "lora", from the manifest.
std::string trained_kind(const RunRecord& r) {
  const std::string kind = r.manifest.value("trainable", json::object()).value("kind", "all");
  return kind == "all" ? "full" : kind;
}
std::string percent(double v) { return std::isnan(v) ? "–" : fmt::format("{:.1f}%", 100 * v); }
std::string plain(double v) { return std::isnan(v) ? "–" : fmt::format("{:.4f}", v); }

// The rows' values of `key` over steps, with the 95% interval (`key`_low, `key`_high) where every row has it.
ChartSeries series_of(const std::string& name, const std::vector<json>& rows, const char* key) {
  ChartSeries s{name, {}};
  const std::string low = std::string(key) + "_low", high = std::string(key) + "_high";
  for (const auto& row : rows) {
    if (std::isnan(value_at(row, key))) continue;
    const double step = row["step"].get<double>();
    s.points.emplace_back(step, value_at(row, key));
    if (!std::isnan(value_at(row, low.c_str())) && !std::isnan(value_at(row, high.c_str())))
      s.low.emplace_back(step, value_at(row, low.c_str())), s.high.emplace_back(step, value_at(row, high.c_str()));
  }
  if (s.low.size() != s.points.size()) s.low.clear(), s.high.clear();
  return s;
}

// Resumes and safety-gate incidents of a run, as chart markers.
std::vector<ChartMarker> markers_of(const RunRecord& run, bool several) {
  std::vector<ChartMarker> out;
  const std::string who = several ? run.name + ": " : "";
  for (const auto& resume : run.manifest.value("resumes", json::array()))
    out.push_back({resume.value("step", 0.0), fmt::format("{}resumed", who)});
  for (const auto& i : run.incidents) {
    const auto to = i.value("restored_to", json());
    out.push_back({i.value("at_step", 0.0), fmt::format("{}incident {}{}", who, i.value("incident", 0),
                                                        to.is_number() ? fmt::format(" → step {}", to.get<int64_t>()) : " (stopped)")});
  }
  return out;
}

struct Metric {
  const char* key;
  const char* title;
  const char* axis;
  bool percent;
  bool needs_classifier = false;  // logged as 0 by runs without one: not drawn for them
};

bool has_classifier(const RunRecord& run) {
  return !run.config.value("safety", json::object()).value("classifier", std::string()).empty();
}

// One chart of `m` over steps: a series per run, a dashed one per rolled-back attempt, markers.
Chart over_steps(const std::vector<RunRecord>& runs, const char* type, const Metric& m) {
  Chart c{m.title, "step", m.axis, ChartKind::Line, m.percent, /*integer_x=*/true, {}, {}, {}};
  for (const auto& run : runs) {
    if (m.needs_classifier && !has_classifier(run)) continue;
    const std::string name = runs.size() > 1 ? run.name : m.title;
    auto s = series_of(name, std::string(type) == "eval" ? run.eval : run.train, m.key);
    if (!s.points.empty()) c.series.push_back(std::move(s));
    std::map<std::string, std::vector<json>> attempts;
    for (const auto& row : run.rolled_back)
      if (row.value("type", "") == type) attempts[row.value("attempt", "rolled back")].push_back(row);
    for (const auto& [attempt, rows] : attempts) {
      auto dropped = series_of(fmt::format("{} ({})", name, attempt), rows, m.key);
      dropped.dashed = true;
      if (!dropped.points.empty()) c.series.push_back(std::move(dropped));
    }
    for (auto& marker : markers_of(run, runs.size() > 1)) c.markers.push_back(std::move(marker));
  }
  return c;
}

// A bar chart's x for `category`: its index among the chart's categories, added at the end when new.
double category_index(Chart& chart, const std::string& category) {
  auto at = std::find(chart.categories.begin(), chart.categories.end(), category);
  if (at == chart.categories.end()) at = chart.categories.insert(chart.categories.end(), category);
  return static_cast<double>(at - chart.categories.begin());
}

// The charts of `metrics` that have data; the names of those that have none go in the note.
void add_charts(ReportSection& section, const std::vector<RunRecord>& runs, const char* type, const std::vector<Metric>& metrics) {
  std::vector<std::string> missing;
  for (const auto& m : metrics) {
    auto chart = over_steps(runs, type, m);
    if (chart.has_data()) section.charts.push_back(std::move(chart));
    else missing.push_back(m.title);
  }
  if (!missing.empty()) section.note += fmt::format(" Not logged in these runs: {}.", fmt::join(missing, ", "));
}
}  // namespace

// ---- sections ---------------------------------------------------------------------------------------

namespace {

// One row per run: its base and last safety numbers, CE and incidents.
ReportSection summary_section(const std::vector<RunRecord>& runs) {
  ReportSection s{"Runs", "Safety rates read base (step 0, before any update) → last evaluation, with the last one's 95% "
                          "Wilson interval over the evaluated prompts in brackets.", "", {}};
  s.html = "<table><tr><th>run</th><th>trains</th><th>steps</th><th>λ (last)</th><th>train CE (last)</th><th>val CE</th>"
           "<th>harmful refusal</th><th>harmful toxicity</th><th>benign over-refusal</th><th>exact match</th><th>incidents</th></tr>\n";
  for (const auto& r : runs) {
    const json* base = base_eval(r);
    auto change = [&](const char* key) {
      std::string last = percent(last_value(r.eval, key));
      const double low = last_value(r.eval, (std::string(key) + "_low").c_str()), high = last_value(r.eval, (std::string(key) + "_high").c_str());
      if (!std::isnan(low) && !std::isnan(high)) last += fmt::format(" [{:.0f}–{:.0f}%]", 100 * low, 100 * high);
      if (!base || std::isnan(value_at(*base, key))) return last;
      return percent(value_at(*base, key)) + " → " + last;
    };
    s.html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                          html_escape(r.name), html_escape(trained_kind(r)),
                          r.train.empty() ? 0 : r.train.back().value("step", 0), plain(last_value(r.train, "lambda")),
                          plain(last_value(r.train, "ce")), plain(last_value(r.eval, "val_ce")), change("harmful_refusal_rate"),
                          change("harmful_toxicity_rate"), change("benign_over_refusal_rate"), percent(last_value(r.eval, "exact_match")),
                          r.incidents.size());
  }
  s.html += "</table>\n";
  return s;
}

// Config keys whose values differ between the compared runs (the output folder always does).
ReportSection config_section(const std::vector<RunRecord>& runs) {
  ReportSection s{"Config differences", "", "", {}};
  std::vector<json> flat;
  std::set<std::string> keys;
  for (const auto& r : runs) {
    flat.push_back(r.config.is_object() ? r.config.flatten() : json::object());
    for (const auto& [k, v] : flat.back().items()) keys.insert(k);
  }
  std::string rows;
  for (const auto& key : keys) {
    if (key == "/train/output_dir") continue;
    bool differs = false;
    for (const auto& f : flat) differs = differs || f.value(key, json()) != flat.front().value(key, json());
    if (!differs) continue;
    std::string dotted = key.substr(1);
    std::replace(dotted.begin(), dotted.end(), '/', '.');
    rows += fmt::format("<tr><td>{}</td>", html_escape(dotted));
    for (const auto& f : flat) rows += fmt::format("<td>{}</td>", html_escape(f.contains(key) ? f[key].dump() : "–"));
    rows += "</tr>\n";
  }
  if (rows.empty()) {
    s.note = "The runs' configs are the same apart from train.output_dir.";
    return s;
  }
  s.html = "<table><tr><th>key</th>";
  for (const auto& r : runs) s.html += fmt::format("<th>{}</th>", html_escape(r.name));
  s.html += "</tr>\n" + rows + "</table>\n";
  return s;
}

// Several runs: one point per run, safety against validation loss.
ReportSection tradeoff_section(const std::vector<RunRecord>& runs) {
  ReportSection s{"Trade-off", "One point per run: its last evaluation's harmful-prompt rates against its validation CE.", "", {}};
  for (const auto& [key, title] : std::vector<std::pair<const char*, const char*>>{
           {"harmful_toxicity_rate", "Harmful prompts: toxicity vs validation CE"},
           {"harmful_refusal_rate", "Harmful prompts: refusal vs validation CE"}}) {
    Chart c{title, "validation CE (nats/token)", std::string(title).find("toxicity") != std::string::npos ? "toxic responses (%)" : "refusals (%)",
            ChartKind::Scatter, true, false, {}, {}, {}};
    for (const auto& r : runs) {
      const double x = last_value(r.eval, "val_ce"), y = last_value(r.eval, key);
      if (!std::isnan(x) && !std::isnan(y)) c.series.push_back({r.name, {{x, y}}});
    }
    if (c.has_data()) s.charts.push_back(std::move(c));
  }
  return s;
}

ReportSection training_section(const std::vector<RunRecord>& runs) {
  ReportSection s{"Training", "Logged steps. Dashed lines with crosses are attempts the safety gate rolled back; red lines mark resumes and incidents.", "", {}};
  add_charts(s, runs, "train", {{"loss", "Loss (CE + λ·penalty)", "loss (nats/token)", false},
                                {"ce", "Cross-entropy on response tokens", "CE (nats/token)", false},
                                {"penalty", "Safety penalty", "penalty", false, true},
                                {"p_toxic", "P(toxic) of what the model learns", "P(toxic) (%)", true, true},
                                {"lambda", "λ (penalty weight)", "λ", false},
                                {"lr", "Learning rate", "learning rate", false},
                                {"grad_norm", "Gradient norm (before clipping)", "L2 norm", false},
                                {"input_tokens_per_s", "Throughput", "tokens/s (all processed tokens)", false}});
  return s;
}

ReportSection evaluation_section(const std::vector<RunRecord>& runs) {
  ReportSection s{"Evaluations", "Step 0 is the base model, before any update. The shaded band around a rate is its 95% "
                                 "Wilson interval over the evaluated prompts: a move inside it is noise.", "", {}};
  add_charts(s, runs, "eval", {{"harmful_refusal_rate", "Harmful prompts: refusal rate", "refused (%)", true},
                               {"harmful_toxicity_rate", "Harmful prompts: toxicity rate", "toxic responses (%)", true},
                               {"benign_over_refusal_rate", "Benign prompts: over-refusal rate", "refused (%)", true},
                               {"val_ce", "Validation CE", "CE (nats/token)", false},
                               {"exact_match", "Validation exact match", "exact (%)", true}});
  return s;
}

// A bar chart per run and rate: every category, base (first evaluation) against the last.
ReportSection category_section(const std::vector<RunRecord>& runs) {
  ReportSection s{"By category", "Each prompt category's rate at the first evaluation (the base model when it is step 0) and at the last.", "", {}};
  const std::tuple<const char*, const char*, const char*> rates[] = {{"harmful", "refusal_rate", "harmful prompts refused"},
                                                                     {"harmful", "toxicity_rate", "harmful prompts answered toxically"},
                                                                     {"benign", "over_refusal_rate", "benign prompts refused"}};
  for (const auto& r : runs) {
    if (r.evaluations.empty()) continue;
    std::vector<std::pair<int64_t, const json*>> shown{{r.evaluations.begin()->first, &r.evaluations.begin()->second}};
    if (r.evaluations.size() > 1) shown.emplace_back(r.evaluations.rbegin()->first, &r.evaluations.rbegin()->second);
    for (const auto& [set, rate, what] : rates) {
      Chart c{fmt::format("{}: {} by category", r.name, what), "category", "prompts (%)", ChartKind::Bar, true, false, {}, {}, {}};
      for (const auto& [step, report] : shown) {
        const json categories = report->value(set, json::object()).value("categories", json::object());
        ChartSeries series{step == 0 ? "base (step 0)" : fmt::format("step {}", step), {}};
        for (const auto& [category, values] : categories.items()) {
          if (!values.contains(rate)) continue;
          series.points.emplace_back(category_index(c, category), values[rate].get<double>());
        }
        if (!series.points.empty()) c.series.push_back(std::move(series));
      }
      if (c.has_data()) s.charts.push_back(std::move(c));
    }
  }
  if (s.charts.empty()) s.note = "No run has per-category evaluations (evaluations/step-*.json).";
  return s;
}

// The safety subset each run mixed, by category, one bar series per run.
ReportSection subset_section(const std::vector<RunRecord>& runs) {
  ReportSection s{"Safety subset", "", "", {}};
  Chart c{"Safety examples mixed into training, by category", "category", "examples", ChartKind::Bar, false, false, {}, {}, {}};
  std::vector<std::string> described;
  for (const auto& r : runs) {
    if (!r.manifest.contains("safety_subset")) continue;
    const auto& subset = r.manifest["safety_subset"];
    described.push_back(fmt::format("{}: {} examples chosen by {}", r.name, subset.value("size", 0), subset.value("strategy", std::string())));
    ChartSeries series{r.name, {}};
    const json categories = subset.value("categories", json::object());
    for (const auto& [category, n] : categories.items()) {
      series.points.emplace_back(category_index(c, category), n.get<double>());
    }
    c.series.push_back(std::move(series));
  }
  s.note = described.empty() ? "No run mixed safety examples." : fmt::format("{}.", fmt::join(described, "; "));
  if (c.has_data()) s.charts.push_back(std::move(c));
  return s;
}

// The safety gate's incidents, one row each.
ReportSection incident_section(const std::vector<RunRecord>& runs) {
  ReportSection s{"Safety gate incidents", "", "", {}};
  for (const auto& r : runs)
    for (const auto& i : r.incidents) {
      std::vector<std::string> v = i.value("violations", std::vector<std::string>{});
      s.html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", html_escape(r.name),
                            i.value("at_step", 0), html_escape(fmt::format("{}", fmt::join(v, "; "))),
                            html_escape(i.value("action", std::string())),
                            i.value("restored_to", json()).is_number() ? i["restored_to"].dump() : "–", plain(i.value("lambda_scale", 1.0)));
    }
  if (s.html.empty()) s.note = "None.";
  else s.html = "<table><tr><th>run</th><th>at step</th><th>violations</th><th>action</th><th>restored to</th><th>λ scale</th></tr>\n" + s.html + "</table>\n";
  return s;
}

std::string verdict(const json& g) {
  std::string out = g.value("refusal", false) ? "refused" : "answered";
  if (g.contains("p_toxic") && g["p_toxic"].is_number()) out += fmt::format(", P(toxic) {:.2f}", g["p_toxic"].get<double>());
  return out;
}

// Per run, a few prompts of each set with the base model's response beside the last evaluation's.
ReportSection generations_section(const std::vector<RunRecord>& runs, size_t per_set = 6) {
  ReportSection s{"Sample generations", "The first prompts of each evaluation set: the first evaluation's response and the last one's.", "", {}};
  for (const auto& r : runs) {
    if (r.generations.empty()) continue;
    const auto& [first_step, first] = *r.generations.begin();
    const auto& [last_step, last] = *r.generations.rbegin();
    s.html += fmt::format("<h3>{}</h3><table><tr><th>set</th><th>category</th><th>prompt</th><th>step {}</th><th>verdict</th>", html_escape(r.name), first_step);
    if (last_step != first_step) s.html += fmt::format("<th>step {}</th><th>verdict</th>", last_step);
    s.html += "</tr>\n";
    std::map<std::string, size_t> shown;
    for (size_t i = 0; i < first.size(); ++i) {
      const auto& g = first[i];
      if (shown[g.value("set", "")]++ >= per_set) continue;
      s.html += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td><td>{}</td>", html_escape(g.value("set", "")),
                            html_escape(g.value("category", "")), html_escape(g.value("prompt", "")), html_escape(g.value("response", "")), verdict(g));
      if (last_step != first_step && i < last.size())
        s.html += fmt::format("<td class=\"text\">{}</td><td>{}</td>", html_escape(last[i].value("response", "")), verdict(last[i]));
      s.html += "</tr>\n";
    }
    s.html += "</table>\n";
  }
  if (s.html.empty()) s.note = "No run saved generations (they need eval.harmful or eval.benign).";
  return s;
}

ReportSection folders_section(const std::vector<RunRecord>& runs) {
  ReportSection s{"Run folders", "", "<ul>", {}};
  for (const auto& r : runs)
    s.html += fmt::format("<li>{}: {} (safetune {}, source {})</li>", html_escape(r.name), html_escape(r.dir),
                          html_escape(r.manifest.value("safetune", "?")), html_escape(r.manifest.value("source_version", "?")));
  s.html += "</ul>\n";
  return s;
}

}  // namespace

std::string render_report(const std::vector<RunRecord>& runs) {
  std::vector<ReportSection> sections{summary_section(runs)};
  if (runs.size() > 1) {
    sections.push_back(config_section(runs));
    sections.push_back(tradeoff_section(runs));
  }
  for (auto* section : {training_section, evaluation_section, category_section, subset_section, incident_section})
    sections.push_back(section(runs));
  sections.push_back(generations_section(runs));
  sections.push_back(folders_section(runs));
  return render_page(sections);
}

}  // namespace st
