// trainer/eval/report_page.cpp — the HTML page of `safetune report`: sections of tables and charts, drawn
// by Chart.js inlined from the binary. The page records what it drew (body data-charts-total and
// data-charts-drawn) and every script error (#page-errors), so a headless browser can check it.
#include <fmt/format.h>

#include "trainer/eval/chartjs.h"
#include "trainer/eval/report.h"

namespace st {
using json = nlohmann::json;

bool Chart::has_data() const {
  for (const auto& s : series)
    if (!s.points.empty()) return true;
  return false;
}

json chart_spec(const Chart& chart) {
  const char* kinds[] = {"line", "scatter", "bar"};
  json series = json::array();
  auto scaled = [&](const std::vector<std::pair<double, double>>& xy) {
    json points = json::array();
    for (const auto& [x, y] : xy) points.push_back({x, chart.percent ? 100 * y : y});
    return points;
  };
  for (const auto& s : chart.series)
    series.push_back({{"name", s.name}, {"points", scaled(s.points)}, {"dashed", s.dashed}, {"low", scaled(s.low)}, {"high", scaled(s.high)}});
  json markers = json::array();
  for (const auto& m : chart.markers) markers.push_back({{"x", m.x}, {"label", m.label}});
  return {{"title", chart.title}, {"x_title", chart.x_title}, {"y_title", chart.y_title},
          {"kind", kinds[static_cast<int>(chart.kind)]}, {"percent", chart.percent}, {"integer_x", chart.integer_x},
          {"categories", chart.categories}, {"series", series}, {"markers", markers}};
}

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

namespace {

const char* const kStyle = R"css(
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}h2{margin-top:36px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;vertical-align:top}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}td.text{text-align:left;max-width:420px;white-space:pre-wrap}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart{margin:0;border:1px solid #eee;padding:4px}
.note{color:#555;font-size:13px;max-width:1100px}#page-errors{color:#b00}
)css";

// Runs before anything else on the page: every uncaught error and console.error lands in #page-errors.
const char* const kErrorTrap = R"js(
window.pageErrors = [];
window.addEventListener('error', function (e) { window.pageErrors.push(String(e.message || e)); });
(function () { var original = console.error; console.error = function () {
  window.pageErrors.push(Array.prototype.join.call(arguments, ' ')); original.apply(console, arguments); }; })();
)js";

// Turns each spec of #chart-specs into a Chart.js chart in figure #chart-N, then records what drew.
const char* const kRenderer = R"js(
(function () {
  var specs = JSON.parse(document.getElementById('chart-specs').textContent);
  var palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
  function short(v) {  // rounded numbers for ticks and tooltips
    if (v === 0) return '0';
    var a = Math.abs(v);
    if (a >= 1e5 || a < 1e-3) return v.toExponential(1);
    return String(Number(v.toPrecision(4)));
  }
  var markerPlugin = {  // vertical dashed lines with a label: resumes and safety-gate incidents
    id: 'markers',
    afterDatasetsDraw: function (chart, args, options) {
      var area = chart.chartArea, ctx = chart.ctx;
      (options.list || []).forEach(function (m, i) {
        var px = chart.scales.x.getPixelForValue(m.x);
        if (!(px >= area.left - 1 && px <= area.right + 1)) return;
        ctx.save();
        ctx.strokeStyle = ctx.fillStyle = '#b00';
        ctx.setLineDash([4, 3]);
        ctx.beginPath(); ctx.moveTo(px, area.top); ctx.lineTo(px, area.bottom); ctx.stroke();
        ctx.font = '10px sans-serif';
        ctx.textAlign = px > (area.left + area.right) / 2 ? 'right' : 'left';
        ctx.fillText(m.label, px + (ctx.textAlign === 'left' ? 3 : -3), area.top + 10 + 11 * (i % 4));
        ctx.restore();
      });
    }
  };
  function config(spec) {
    var bar = spec.kind === 'bar', unit = spec.percent ? '%' : '';
    var xy = function (p) { return {x: p[0], y: p[1]}; };
    var datasets = [];
    spec.series.forEach(function (s, k) {
      var color = palette[k % palette.length];
      datasets.push({
        label: s.name, borderColor: color, backgroundColor: bar ? color + 'cc' : color,
        data: s.points.map(function (p) { return bar ? p[1] : xy(p); }),
        borderDash: s.dashed ? [6, 4] : [], pointRadius: spec.kind === 'scatter' ? 6 : 3,
        pointStyle: s.dashed ? 'crossRot' : 'circle', showLine: spec.kind === 'line', tension: 0, borderWidth: 1.5
      });
      if (bar || !s.low.length) return;
      // The 95% interval as a shaded band: its lower edge, then the upper edge filled down to it.
      var edge = {borderWidth: 0, pointRadius: 0, pointHitRadius: 0, showLine: true, tension: 0, band: true, borderColor: color};
      datasets.push(Object.assign({label: s.name + ' (95% interval)', data: s.low.map(xy), fill: false}, edge));
      datasets.push(Object.assign({label: s.name + ' (95% interval)', data: s.high.map(xy), fill: '-1', backgroundColor: color + '22'}, edge));
    });
    var y = {title: {display: true, text: spec.y_title}, ticks: {callback: function (v) { return short(v) + unit; }}};
    if (spec.percent) { y.min = 0; y.max = 100; }
    var ys = [];
    spec.series.forEach(function (s) { s.points.forEach(function (p) { ys.push(p[1]); }); });
    var lo = Math.min.apply(null, ys), hi = Math.max.apply(null, ys);
    if (!spec.percent && ys.length && lo === hi && lo !== 0) {  // a constant (a fixed LR): ±10%, not Chart.js's ±1
      y.min = lo - Math.abs(lo) / 10; y.max = hi + Math.abs(hi) / 10;
    }
    var x = bar ? {title: {display: true, text: spec.x_title}}
                : {type: 'linear', title: {display: true, text: spec.x_title},
                   ticks: spec.integer_x ? {callback: short, precision: 0} : {callback: short}};
    return {
      type: bar ? 'bar' : spec.kind, data: bar ? {labels: spec.categories, datasets: datasets} : {datasets: datasets},
      plugins: [markerPlugin],
      options: {
        animation: false, responsive: false, scales: {x: x, y: y},
        plugins: {
          title: {display: true, text: spec.title, font: {size: 14}},
          legend: {position: 'bottom', labels: {filter: function (item, data) { return !data.datasets[item.datasetIndex].band; }}},
          markers: {list: spec.markers},
          tooltip: {filter: function (c) { return !c.dataset.band; }, callbacks: {label: function (c) {
            var at = bar ? '' : ' at ' + short(c.parsed.x);
            return c.dataset.label + ': ' + short(c.parsed.y) + unit + at; }}}
        }
      }
    };
  }
  // A chart drew when each of its points has a finite place inside the plot area and the canvas has ink.
  function drew(chart) {
    var a = chart.chartArea, points = 0, ok = true;
    chart.data.datasets.forEach(function (d, k) {
      chart.getDatasetMeta(k).data.forEach(function (el) {
        points++;
        ok = ok && isFinite(el.x) && isFinite(el.y) && el.x >= a.left - 1 && el.x <= a.right + 1;
      });
    });
    var pixels = chart.ctx.getImageData(0, 0, chart.canvas.width, chart.canvas.height).data, ink = false;
    for (var i = 3; i < pixels.length && !ink; i += 4) ink = pixels[i] > 0;
    return ok && points > 0 && ink;
  }
  var drawn = 0;
  specs.forEach(function (spec, i) {
    try {
      if (drew(new Chart(document.querySelector('#chart-' + i + ' canvas'), config(spec)))) drawn++;
      else window.pageErrors.push('chart ' + i + ' (' + spec.title + ') did not draw');
    } catch (e) { window.pageErrors.push('chart ' + i + ' (' + spec.title + '): ' + e); }
  });
  document.body.setAttribute('data-charts-total', String(specs.length));
  document.body.setAttribute('data-charts-drawn', String(drawn));
  document.getElementById('page-errors').textContent = window.pageErrors.join('\n');
})();
)js";

}  // namespace

std::string render_page(const std::vector<ReportSection>& sections) {
  std::string html = fmt::format("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>safetune report</title>"
                                 "<style>{}</style>\n<script>{}</script>\n<script>{}</script></head>\n<body>\n<h1>safetune report</h1>\n"
                                 "<pre id=\"page-errors\"></pre>\n",
                                 kStyle, kErrorTrap, chartjs_source());
  json specs = json::array();
  for (const auto& section : sections) {
    html += fmt::format("<h2>{}</h2>\n", html_escape(section.title));
    if (!section.note.empty()) html += fmt::format("<p class=\"note\">{}</p>\n", html_escape(section.note));
    html += section.html;
    if (section.charts.empty()) continue;
    html += "<div class=\"charts\">\n";
    for (const auto& chart : section.charts) {
      html += fmt::format("<figure class=\"chart\" id=\"chart-{}\"><canvas width=\"600\" height=\"340\" aria-label=\"{}\"></canvas></figure>\n",
                          specs.size(), html_escape(chart.title));
      specs.push_back(chart_spec(chart));
    }
    html += "</div>\n";
  }
  // "</script" or "<!--" inside a script element would end or confuse it; '<' only occurs inside JSON
  // strings, where \u003c reads as the same character.
  std::string data;
  for (char c : specs.dump()) data += c == '<' ? std::string("\\u003c") : std::string(1, c);
  html += fmt::format("<script type=\"application/json\" id=\"chart-specs\">{}</script>\n<script>{}</script>\n</body></html>\n",
                      data, kRenderer);
  return html;
}

}  // namespace st
