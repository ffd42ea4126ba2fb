// trainer/eval/report.h — the pieces of `safetune report`: what a run folder holds (RunRecord), the charts
// and tables built from one or several runs (report.cpp), and the self-contained HTML page that draws them
// with an inlined Chart.js (report_page.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace st {

struct ChartSeries {
  std::string name;                               // legend text
  std::vector<std::pair<double, double>> points;  // (x, y); for a bar chart x is the category's index
  bool dashed = false;                            // an attempt the safety gate rolled back
  std::vector<std::pair<double, double>> low = {}, high = {};  // a rate's 95% interval at the same x, drawn as a band; may be empty
};

struct ChartMarker {  // a labelled vertical line: a resume, or a gate incident
  double x;
  std::string label;
};

enum class ChartKind { Line, Scatter, Bar };

struct Chart {
  std::string title, x_title, y_title;
  ChartKind kind = ChartKind::Line;
  bool percent = false;    // y values are rates in [0, 1], drawn as 0–100 %
  bool integer_x = false;  // x is a count (steps): no ticks between integers
  std::vector<std::string> categories;  // a bar chart's x labels
  std::vector<ChartSeries> series;
  std::vector<ChartMarker> markers;
  bool has_data() const;
};

// What the page's script draws for `chart`: percentages already scaled to 0–100.
nlohmann::json chart_spec(const Chart& chart);

// A block of the page: a heading, a note under it, its own HTML (tables), then its charts.
struct ReportSection {
  std::string title, note, html;
  std::vector<Chart> charts;
};

std::string html_escape(const std::string& text);
// The whole page: Chart.js and the chart specs inlined, no network, one file.
std::string render_page(const std::vector<ReportSection>& sections);

// One run folder as the report reads it.
struct RunRecord {
  std::string dir, name;
  nlohmann::json config, manifest;
  std::vector<nlohmann::json> train, eval, incidents;  // metrics.jsonl rows by type, and incidents.jsonl
  std::vector<nlohmann::json> rolled_back;             // rows of attempts the safety gate discarded
  std::map<int64_t, nlohmann::json> evaluations;       // step -> the evaluation's full report (per category)
  std::map<int64_t, std::vector<nlohmann::json>> generations;  // step -> that evaluation's responses
};
RunRecord read_run(const std::string& dir);

// The report for one or more runs.
std::string render_report(const std::vector<RunRecord>& runs);

}  // namespace st
