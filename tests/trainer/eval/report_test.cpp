// tests/trainer/eval/report_test.cpp — `safetune report`: the page carries the chart specs the runs call for
// (every training and evaluation metric, the base point at step 0, percentages on 0–100, per-category bars,
// resume and incident markers, the rolled-back attempt dashed), the config differences, sample
// generations; it is self-contained; and in headless Chromium it loads with no script error and every
// chart draws (skipped where chromium-headless-shell is not installed; scripts/get_chromium installs it).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <regex>

#include "common/files.h"
#include "tests/test_util.h"
#include "trainer/eval/report.h"

namespace st {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using test::fixture;
using test::run_command;
using test::run_safetune;
using test::shell_quote;
using test::TempDir;

// Two short runs in `dir`: "a" stopped at step 3 and resumed, "b" with another learning rate and, as the
// safety gate writes them, an incident at step 4 whose rolled-back rows kept in rolled_back.jsonl.
void make_runs(const TempDir& dir) {
  write_text_file_atomic(dir / "run.json", fmt::format(R"({{
    "model": {{"path": "{}", "device": "cpu"}}, "data": {{"train": "{}", "validation": "{}", "max_seq_len": 64}},
    "train": {{"output_dir": "a", "max_steps": 6, "batch_size": 8}}, "optim": {{"lr": 3e-3}},
    "checkpoint": {{"every_steps": 0}}, "log": {{"every_steps": 1, "progress": "never"}},
    "eval": {{"every_steps": 2, "harmful": "{}", "benign": "{}", "max_new_tokens": 4, "exact_match_examples": 2}},
    "safety": {{"mix": {{"pool": "{}", "budget": 6, "per_batch": 1}}}}}})",
                                                     fixture("golden/gqa_default_rope"), fixture("train/train.jsonl"),
                                                     fixture("train/validation.jsonl"), fixture("safety/harmful_eval.jsonl"),
                                                     fixture("safety/benign_eval.jsonl"), fixture("safety/pool.jsonl")));
  const std::string train = "train --config " + shell_quote(dir / "run.json") + " --set train.output_dir=";
  auto r = run_safetune(train + shell_quote(dir / "a") + " --set train.stop_at_step=3");
  ASSERT_EQ(r.exit_code, 75) << r.output;
  ASSERT_EQ((r = run_safetune(train + shell_quote(dir / "a") + " --set log.progress=always")).exit_code, 0) << r.output;
  // The live line says what an evaluation is doing (48 harmful and 36 benign prompts, 8 per batch).
  EXPECT_NE(r.output.find("step 4: evaluating 8/84 prompts"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("step 6: evaluating 84/84 prompts"), std::string::npos) << r.output;
  // The manifest names the evaluation prompt files by hash, and the resume with its command line.
  const auto manifest = json::parse(read_text_file(dir / "a/manifest.json"));
  EXPECT_EQ(manifest["eval_inputs"][fixture("safety/harmful_eval.jsonl")].get<std::string>().size(), 64u) << manifest;
  EXPECT_EQ(manifest["eval_inputs"].size(), 2u);
  EXPECT_EQ(manifest["resumes"][0]["command_line"].back(), "log.progress=always");
  ASSERT_EQ((r = run_safetune(train + shell_quote(dir / "b") + " --set optim.lr=1e-2")).exit_code, 0) << r.output;
  write_text_file_atomic(dir / "b/incidents.jsonl", R"({"type":"incident","step":2,"at_step":4,"violations":["harmful toxicity rate 0.5 exceeds 0.2"],"action":"increase_lambda","restored_to":2,"lambda_scale":2.0,"incident":1})" "\n");
  write_text_file_atomic(dir / "b/rolled_back.jsonl",
                         R"({"type":"train","step":3,"loss":9.5,"ce":9.5,"lr":0.01,"attempt":"incident-1-rolled-back"})" "\n"
                         R"({"type":"eval","step":4,"harmful_refusal_rate":0.25,"attempt":"incident-1-rolled-back"})" "\n");
}

json chart_specs(const std::string& html) {
  const std::string open = "<script type=\"application/json\" id=\"chart-specs\">";
  const auto at = html.find(open);
  if (at == std::string::npos) return json::array();
  const auto from = at + open.size();
  return json::parse(html.substr(from, html.find("</script>", from) - from));
}

const json* find_chart(const json& specs, const std::string& title) {
  for (const auto& s : specs)
    if (s["title"] == title) return &s;
  return nullptr;
}

TEST(Report, ChartsTablesAndMarkersForOneRunAndAComparison) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(make_runs(dir));

  auto r = run_safetune("report " + shell_quote(dir / "a") + " --out " + shell_quote(dir / "one.html"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto one = read_text_file(dir / "one.html");
  const json specs = chart_specs(one);
  ASSERT_GE(specs.size(), 12u) << "training, evaluation, category and subset charts";
  for (const char* title : {"Loss (CE + λ·penalty)", "Cross-entropy on response tokens", "Learning rate", "Throughput",
                            "Harmful prompts: refusal rate", "Benign prompts: over-refusal rate", "Validation CE"})
    ASSERT_NE(find_chart(specs, title), nullptr) << title;
  // The base point: every evaluation chart starts at step 0; rates are percentages on a 0–100 axis.
  const json& refusal = *find_chart(specs, "Harmful prompts: refusal rate");
  EXPECT_TRUE(refusal["percent"].get<bool>());
  EXPECT_EQ(refusal["series"][0]["points"][0][0].get<double>(), 0.0);
  EXPECT_EQ(refusal["series"][0]["points"].size(), 4u) << "steps 0, 2, 4, 6";
  for (const auto& p : refusal["series"][0]["points"]) EXPECT_TRUE(p[1] >= 0 && p[1] <= 100) << p;
  // The 95% interval around each evaluated rate, for the shaded band: same steps, low <= rate <= high.
  const json& series = refusal["series"][0];
  ASSERT_EQ(series["low"].size(), series["points"].size());
  for (size_t i = 0; i < series["points"].size(); ++i) {
    EXPECT_EQ(series["low"][i][0], series["points"][i][0]);
    EXPECT_LE(series["low"][i][1].get<double>(), series["points"][i][1].get<double>());
    EXPECT_GE(series["high"][i][1].get<double>(), series["points"][i][1].get<double>());
    EXPECT_LT(series["low"][i][1].get<double>(), series["high"][i][1].get<double>()) << "a few prompts give a wide interval";
  }
  EXPECT_TRUE(find_chart(specs, "Validation CE")->at("series")[0]["low"].empty()) << "no interval, no band";
  EXPECT_EQ(refusal["y_title"], "refused (%)");
  // The resume at step 3 is marked; the penalty (none in this run) is said to be absent, not drawn empty.
  ASSERT_EQ(refusal["markers"].size(), 1u);
  EXPECT_EQ(refusal["markers"][0]["x"].get<double>(), 3.0);
  EXPECT_EQ(refusal["markers"][0]["label"], "resumed");
  EXPECT_EQ(find_chart(specs, "Safety penalty"), nullptr);
  EXPECT_NE(one.find("Not logged in these runs: Safety penalty, P(toxic) of what the model learns"), std::string::npos);
  // Per-category bars: base (step 0) against the last evaluation.
  const json* categories = find_chart(specs, "a: harmful prompts refused by category");
  ASSERT_NE(categories, nullptr);
  EXPECT_EQ((*categories)["kind"], "bar");
  EXPECT_GE((*categories)["categories"].size(), 2u);
  EXPECT_EQ((*categories)["series"][0]["name"], "base (step 0)");
  EXPECT_EQ((*categories)["series"][1]["name"], "step 6");
  ASSERT_NE(find_chart(specs, "Safety examples mixed into training, by category"), nullptr);
  // Sample generations: the base model's responses beside the last evaluation's, with verdicts.
  EXPECT_NE(one.find("<th>step 0</th><th>verdict</th><th>step 6</th>"), std::string::npos);
  EXPECT_TRUE(one.find(">refused") != std::string::npos || one.find(">answered") != std::string::npos);
  // Self-contained: Chart.js is inlined, nothing is fetched.
  EXPECT_NE(one.find("Chart.js v3"), std::string::npos);
  EXPECT_EQ(std::regex_search(one, std::regex(R"re(<script[^>]+src=|<link[^>]+href=)re")), false);
  EXPECT_EQ(one.find("Trade-off"), std::string::npos) << "a single run has no trade-off chart";

  r = run_safetune("report " + shell_quote(dir / "a") + " " + shell_quote(dir / "b") + " --out " + shell_quote(dir / "two.html"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto two = read_text_file(dir / "two.html");
  const json compared = chart_specs(two);
  const json& loss = *find_chart(compared, "Loss (CE + λ·penalty)");
  ASSERT_EQ(loss["series"].size(), 3u) << "a, b and b's rolled-back attempt";
  EXPECT_EQ(loss["series"][0]["name"], "a");
  EXPECT_EQ(loss["series"][1]["name"], "b");
  EXPECT_EQ(loss["series"][2]["name"], "b (incident-1-rolled-back)");
  EXPECT_TRUE(loss["series"][2]["dashed"].get<bool>());
  std::vector<std::string> labels;
  for (const auto& m : loss["markers"]) labels.push_back(m["label"]);
  EXPECT_EQ(labels, (std::vector<std::string>{"a: resumed", "b: incident 1 → step 2"}));
  EXPECT_EQ(find_chart(compared, "Harmful prompts: toxicity vs validation CE"), nullptr) << "no classifier, no toxicity";
  ASSERT_NE(find_chart(compared, "Harmful prompts: refusal vs validation CE"), nullptr);
  EXPECT_EQ(find_chart(compared, "Harmful prompts: refusal vs validation CE")->at("series").size(), 2u);
  EXPECT_NE(two.find("<tr><td>optim.lr</td><td>0.003</td><td>0.01</td></tr>"), std::string::npos) << "config differences";
  EXPECT_NE(two.find("harmful toxicity rate 0.5 exceeds 0.2"), std::string::npos);

  r = run_safetune("report " + shell_quote(dir / "nothing") + " --out " + shell_quote(dir / "x.html"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("not a run folder (no metrics.jsonl)"), std::string::npos) << r.output;
  r = run_safetune("report " + shell_quote(dir / "a"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--out is required"), std::string::npos) << r.output;
}

TEST(Report, TextThatLooksLikeMarkupStaysText) {
  Chart c{"a </script><!-- & \"c\"", "x", "y", ChartKind::Line, false, false, {}, {{"s<b>", {{0, 1}, {1, 2}}}}, {{0.5, "inc <1>"}}};
  const auto html = render_page({ReportSection{"<h1>", "n & m", "", {c}}});
  EXPECT_NE(html.find("<h2>&lt;h1&gt;</h2>"), std::string::npos);
  EXPECT_NE(html.find("n &amp; m"), std::string::npos);
  const json specs = chart_specs(html);
  ASSERT_EQ(specs.size(), 1u);
  EXPECT_EQ(specs[0]["title"], "a </script><!-- & \"c\"");
  EXPECT_EQ(specs[0]["markers"][0]["label"], "inc <1>");
}

// The page in a real browser: it loads with no script error, and every chart reports that it drew.
TEST(Report, DrawsEveryChartInHeadlessChromium) {
  if (run_command("command -v chromium-headless-shell").exit_code != 0)
    GTEST_SKIP() << "chromium-headless-shell is not installed (scripts/get_chromium installs it)";
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(make_runs(dir));
  auto r = run_safetune("report " + shell_quote(dir / "a") + " " + shell_quote(dir / "b") + " --out " + shell_quote(dir / "two.html"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const size_t charts = chart_specs(read_text_file(dir / "two.html")).size();
  const std::string browser = "timeout 120 chromium-headless-shell --no-sandbox --disable-gpu --hide-scrollbars "
                              "--virtual-time-budget=10000 ";
  const std::string page = shell_quote("file://" + (dir / "two.html"));
  r = run_command(browser + "--dump-dom " + page + " 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex(R"re(data-charts-total="(\d+)" data-charts-drawn="(\d+)")re")))
      << "the page's script did not finish:\n" << r.output.substr(0, 2000);
  EXPECT_EQ(std::stoul(m[1]), charts);
  EXPECT_EQ(std::stoul(m[2]), charts) << "charts that did not draw";
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex(R"re(<pre id="page-errors">([^<]*)</pre>)re")));
  EXPECT_EQ(m[1].str(), "") << "script errors on the page";
  // A screenshot, kept in the build folder for a person to look at.
  const auto shot = fs::absolute("report_screenshot.png").string();
  r = run_command(browser + "--window-size=1400,5000 --screenshot=" + shell_quote(shot) + " " + page);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(fs::exists(shot));
  EXPECT_GT(fs::file_size(shot), 50'000u) << "a page of charts, not a blank one";
  std::printf("[report] %zu charts drew in Chromium with no script error; screenshot %s (%ju bytes)\n", charts, shot.c_str(),
              static_cast<uintmax_t>(fs::file_size(shot)));
}

}  // namespace
}  // namespace st
