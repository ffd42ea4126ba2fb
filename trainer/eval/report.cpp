// trainer/eval/report.cpp — SVG charts and the HTML run report.
#include "trainer/eval/report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include <fmt/ranges.h>

#include "common/check.h"
#include "common/json_file.h"

namespace st {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"};

std::string number(double v) {
  if (v == 0) return "0";
  const double a = std::fabs(v);
  if (a >= 1e4 || a < 1e-3) return fmt::format("{:.2e}", v);
  return fmt::format("{:.4g}", v);
}
}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string render_svg(const Chart& chart) {
  constexpr double W = 560, H = 300, left = 64, right = 16, top = 34, bottom = 44;
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  for (const auto& s : chart.series)
    for (const auto& [x, y] : s.points)
      if (std::isfinite(x) && std::isfinite(y)) x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
  std::string svg = fmt::format(R"svg(<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" viewBox="0 0 {} {}" role="img">)svg",
                                W, H, W, H);
  svg += fmt::format(R"svg(<text x="{}" y="20" font-size="14" font-weight="bold">{}</text>)svg", left, html_escape(chart.title));
  if (!std::isfinite(x0)) return svg + fmt::format(R"svg(<text x="{}" y="{}" font-size="12" fill="#888">no data</text></svg>)svg", left, H / 2);
  if (x1 == x0) x0 -= 1, x1 += 1;
  if (y1 == y0) y0 -= std::max(1e-9, std::fabs(y0) * 0.1), y1 += std::max(1e-9, std::fabs(y1) * 0.1);
  const double pad = (y1 - y0) * 0.05;
  y0 -= pad, y1 += pad;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * (W - left - right); };
  auto py = [&](double y) { return H - bottom - (y - y0) / (y1 - y0) * (H - top - bottom); };
  // axes, ticks and labels
  svg += fmt::format(R"svg(<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="#999"/>)svg", left, top, W - left - right, H - top - bottom);
  for (int i = 0; i <= 4; ++i) {
    const double fx = x0 + (x1 - x0) * i / 4, fy = y0 + (y1 - y0) * i / 4;
    svg += fmt::format(R"svg(<text x="{:.1f}" y="{}" font-size="10" text-anchor="middle">{}</text>)svg", px(fx), H - bottom + 14, number(fx));
    svg += fmt::format(R"svg(<text x="{}" y="{:.1f}" font-size="10" text-anchor="end">{}</text>)svg", left - 4, py(fy) + 3, number(fy));
    svg += fmt::format(R"svg(<line x1="{}" x2="{}" y1="{:.1f}" y2="{:.1f}" stroke="#eee"/>)svg", left, W - right, py(fy), py(fy));
  }
  svg += fmt::format(R"svg(<text x="{}" y="{}" font-size="11" text-anchor="middle">{}</text>)svg", (left + W - right) / 2, H - 8,
                     html_escape(chart.x_label));
  svg += fmt::format(R"svg(<text x="12" y="{}" font-size="11" text-anchor="middle" transform="rotate(-90 12 {})">{}</text>)svg",
                     (top + H - bottom) / 2, (top + H - bottom) / 2, html_escape(chart.y_label));
  for (const auto& [x, label] : chart.markers)
    svg += fmt::format(R"svg(<line class="marker" x1="{0:.1f}" x2="{0:.1f}" y1="{1}" y2="{2}" stroke="#d62728" stroke-dasharray="4 3"><title>{3}</title></line>)svg",
                       px(x), top, H - bottom, html_escape(label));
  // series, then the legend
  for (size_t k = 0; k < chart.series.size(); ++k) {
    const auto& s = chart.series[k];
    const char* color = kColors[k % (sizeof kColors / sizeof *kColors)];
    std::string pts;
    for (const auto& [x, y] : s.points)
      if (std::isfinite(x) && std::isfinite(y)) pts += fmt::format("{:.1f},{:.1f} ", px(x), py(y));
    if (chart.scatter) {
      svg += fmt::format(R"svg(<g data-series="{}">)svg", html_escape(s.name));
      for (const auto& [x, y] : s.points)
        svg += fmt::format(R"svg(<circle cx="{:.1f}" cy="{:.1f}" r="5" fill="{}"><title>{}: ({}, {})</title></circle><text x="{:.1f}" y="{:.1f}" font-size="10">{}</text>)svg",
                           px(x), py(y), color, html_escape(s.name), number(x), number(y), px(x) + 7, py(y) - 6, html_escape(s.name));
      svg += "</g>";
    } else {
      svg += fmt::format(R"svg(<polyline data-series="{}" fill="none" stroke="{}" stroke-width="1.5" points="{}"/>)svg",
                         html_escape(s.name), color, pts);
    }
    svg += fmt::format(R"svg(<rect x="{}" y="{}" width="10" height="3" fill="{}"/><text x="{}" y="{}" font-size="10">{}</text>)svg",
                       left + 8, top + 8 + 13 * k, color, left + 22, top + 12 + 13 * k, html_escape(s.name));
  }
  return svg + "</svg>";
}

RunRecord read_run(const std::string& dir) {
  RunRecord r;
  r.dir = dir;
  r.name = fs::path(dir).lexically_normal().filename().string();
  if (r.name.empty()) r.name = fs::path(dir).lexically_normal().parent_path().filename().string();
  const fs::path metrics = fs::path(dir) / "metrics.jsonl";
  ST_CHECK_INPUT(fs::exists(metrics), "{}: not a run folder (no metrics.jsonl)", dir);
  r.config = fs::exists(fs::path(dir) / "config.json") ? read_json_file((fs::path(dir) / "config.json").string()) : json::object();
  r.manifest = fs::exists(fs::path(dir) / "manifest.json") ? read_json_file((fs::path(dir) / "manifest.json").string()) : json::object();
  read_jsonl(metrics.string(), [&](const json& j, int64_t) {
    const auto type = j.value("type", std::string());
    if (type == "train") r.train.push_back(j);
    else if (type == "eval") r.eval.push_back(j);
  });
  if (fs::exists(fs::path(dir) / "incidents.jsonl"))
    read_jsonl((fs::path(dir) / "incidents.jsonl").string(), [&](const json& j, int64_t) { r.incidents.push_back(j); });
  return r;
}

namespace {
ChartSeries series_of(const std::string& name, const std::vector<json>& rows, const char* key) {
  ChartSeries s{name, {}};
  for (const auto& row : rows)
    if (row.contains(key) && row[key].is_number()) s.points.emplace_back(row["step"].get<double>(), row[key].get<double>());
  return s;
}

// One chart of `key` over steps, a series per run; incidents become markers.
Chart over_steps(const std::vector<RunRecord>& runs, bool eval_rows, const char* key, const std::string& title) {
  Chart c{title, "step", key, {}, {}, false};
  for (const auto& run : runs) {
    auto s = series_of(runs.size() > 1 ? run.name : key, eval_rows ? run.eval : run.train, key);
    if (!s.points.empty()) c.series.push_back(std::move(s));
    for (const auto& i : run.incidents)
      c.markers.emplace_back(i.value("at_step", 0.0), fmt::format("incident {} ({})", i.value("incident", 0), run.name));
  }
  return c;
}

double last_value(const std::vector<json>& rows, const char* key) {
  for (auto it = rows.rbegin(); it != rows.rend(); ++it)
    if (it->contains(key) && (*it)[key].is_number()) return (*it)[key].get<double>();
  return std::nan("");
}
}  // namespace

namespace {

// One row per run: its last numbers.
std::string summary_section(const std::vector<RunRecord>& runs) {
  std::string html;
  // Summary table: one row per run.
  html += "<h2>Runs</h2><table><tr><th>run</th><th>steps</th><th>λ (last)</th><th>final CE</th><th>val CE</th>"
          "<th>harmful refusal</th><th>harmful toxicity</th><th>benign over-refusal</th><th>exact match</th><th>incidents</th></tr>\n";
  auto cell = [](double v, bool percent) {
    return std::isnan(v) ? std::string("–") : percent ? fmt::format("{:.1f}%", 100 * v) : fmt::format("{:.4f}", v);
  };
  for (const auto& r : runs)
    html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                        html_escape(r.name), r.train.empty() ? 0 : r.train.back().value("step", 0),
                        cell(last_value(r.train, "lambda"), false), cell(last_value(r.train, "ce"), false),
                        cell(last_value(r.eval, "val_ce"), false), cell(last_value(r.eval, "harmful_refusal_rate"), true),
                        cell(last_value(r.eval, "harmful_toxicity_rate"), true),
                        cell(last_value(r.eval, "benign_over_refusal_rate"), true), cell(last_value(r.eval, "exact_match"), true),
                        r.incidents.size());
  html += "</table>\n";

  return html;
}

// Several runs: one point per run, safety against validation loss.
std::string tradeoff_section(const std::vector<RunRecord>& runs) {
  std::string html;
  if (runs.size() > 1) {
    html += "<h2>Trade-off</h2><p class=\"note\">One point per run: the last evaluation's harmful-prompt numbers "
            "against its validation loss.</p><div class=\"charts\">";
    for (const auto& [key, title] : std::vector<std::pair<const char*, const char*>>{
             {"harmful_toxicity_rate", "harmful toxicity rate vs validation CE"},
             {"harmful_refusal_rate", "harmful refusal rate vs validation CE"}}) {
      Chart c{title, "validation CE", key, {}, {}, true};
      for (const auto& r : runs) {
        const double x = last_value(r.eval, "val_ce"), y = last_value(r.eval, key);
        if (!std::isnan(x) && !std::isnan(y)) c.series.push_back({r.name, {{x, y}}});
      }
      html += render_svg(c);
    }
    html += "</div>\n";
  }

  return html;
}

// Training and evaluation curves over steps.
std::string curve_sections(const std::vector<RunRecord>& runs) {
  std::string html;
  html += "<h2>Training</h2><div class=\"charts\">";
  for (const auto& [key, title] : std::vector<std::pair<const char*, const char*>>{
           {"loss", "loss (CE + λ·penalty)"}, {"ce", "cross-entropy"}, {"penalty", "safety penalty"},
           {"p_toxic", "P(toxic) of what the model learns"}, {"lambda", "λ"}, {"lr", "learning rate"}})
    html += render_svg(over_steps(runs, false, key, title));
  html += "</div>\n<h2>Evaluations</h2><div class=\"charts\">";
  for (const auto& [key, title] : std::vector<std::pair<const char*, const char*>>{
           {"val_ce", "validation CE"}, {"harmful_refusal_rate", "harmful prompts: refusal rate"},
           {"harmful_toxicity_rate", "harmful prompts: toxicity rate"}, {"benign_over_refusal_rate", "benign prompts: over-refusal"},
           {"exact_match", "validation exact match"}})
    html += render_svg(over_steps(runs, true, key, title));
  html += "</div>\n";

  return html;
}

// The safety gate's incidents, one row each.
std::string incident_section(const std::vector<RunRecord>& runs) {
  std::string html;
  html += "<h2>Safety gate incidents</h2>";
  bool any = false;
  for (const auto& r : runs)
    for (const auto& i : r.incidents) {
      if (!any) html += "<table><tr><th>run</th><th>at step</th><th>violations</th><th>action</th><th>restored to</th><th>λ scale</th></tr>\n";
      any = true;
      std::vector<std::string> v = i.value("violations", std::vector<std::string>{});
      html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n", html_escape(r.name),
                          i.value("at_step", 0), html_escape(fmt::format("{}", fmt::join(v, "; "))),
                          html_escape(i.value("action", std::string())), i["restored_to"].is_null() ? "–" : i["restored_to"].dump(),
                          number(i.value("lambda_scale", 1.0)));
    }
  html += any ? "</table>\n" : "<p class=\"note\">none</p>\n";

  return html;
}

// The safety subset of each run that mixed one: examples per category.
std::string subset_section(const std::vector<RunRecord>& runs) {
  std::string html;
  html += "<h2>Safety subset</h2>";
  bool subset = false;
  for (const auto& r : runs) {
    if (!r.manifest.contains("safety_subset")) continue;
    subset = true;
    const auto& s = r.manifest["safety_subset"];
    Chart c{fmt::format("{}: {} examples by {}", r.name, s.value("size", 0), s.value("strategy", std::string())),
            "category (index)", "examples", {}, {}, true};
    int k = 0;
    std::string legend;
    for (const auto& [category, n] : s["categories"].items()) {
      c.series.push_back({category, {{static_cast<double>(k), n.get<double>()}}});
      legend += fmt::format("{}{} = {}", k ? ", " : "", html_escape(category), n.get<int64_t>());
      ++k;
    }
    html += render_svg(c) + fmt::format("<p class=\"note\">{}: {}</p>\n", html_escape(r.name), legend);
  }
  if (!subset) html += "<p class=\"note\">no run mixed safety examples</p>\n";
  return html;
}

}  // namespace

std::string render_report(const std::vector<RunRecord>& runs) {
  std::string html = R"svg(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>safetune report</title>
<style>body{font-family:system-ui,sans-serif;margin:24px;color:#222}h2{margin-top:32px}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}td:first-child{text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:12px}.note{color:#666;font-size:13px}</style></head><body>
<h1>safetune report</h1>
)svg";
  html += summary_section(runs) + tradeoff_section(runs) + curve_sections(runs) + incident_section(runs) + subset_section(runs);
  html += "<h2>Run folders</h2><ul>";
  for (const auto& r : runs) html += fmt::format("<li>{}: {}</li>", html_escape(r.name), html_escape(r.dir));
  return html + "</ul></body></html>\n";
}

}  // namespace st
