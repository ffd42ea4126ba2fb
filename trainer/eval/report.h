// trainer/eval/report.h — the pieces of `safetune report`: self-contained SVG charts (no scripts, no network)
// and the HTML page that puts a run's (or several runs') metrics, evaluations, incidents and safety
// subset side by side.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace st {

struct ChartSeries {
  std::string name;                            // legend text, also the data-series attribute
  std::vector<std::pair<double, double>> points;  // (x, y), drawn in order
};

struct Chart {
  std::string title, x_label, y_label;
  std::vector<ChartSeries> series;
  std::vector<std::pair<double, std::string>> markers;  // vertical lines at x (incidents), with a label
  bool scatter = false;                                  // points with labels instead of lines
};

std::string html_escape(const std::string& text);
// An <svg> element for the chart; an empty chart says "no data" rather than drawing nothing.
std::string render_svg(const Chart& chart);

// One run folder as the report reads it.
struct RunRecord {
  std::string dir, name;
  nlohmann::json config, manifest;
  std::vector<nlohmann::json> train, eval, incidents;  // metrics.jsonl rows by type, and incidents.jsonl
};
RunRecord read_run(const std::string& dir);

// The whole page for one or more runs.
std::string render_report(const std::vector<RunRecord>& runs);

}  // namespace st
