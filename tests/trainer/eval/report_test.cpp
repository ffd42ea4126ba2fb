// tests/trainer/eval/report_test.cpp — `safetune report`: every chart is well-formed SVG (checked by a small
// XML walker), the expected series are drawn (one per run when comparing), incidents appear as markers
// and in the table, the safety subset's categories are charted, and bad input is exit 2.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <regex>

#include "common/files.h"
#include "tests/test_util.h"
#include "trainer/eval/report.h"

namespace st {
namespace {
using json = nlohmann::json;
using test::fixture;
using test::run_safetune;
using test::shell_quote;
using test::TempDir;

// Checks that `xml` is well-formed: tags nest and close, attribute values are quoted, and every '&'
// starts an entity. Returns the problem, or "" when it is well-formed.
std::string xml_problem(const std::string& xml) {
  std::vector<std::string> stack;
  for (size_t i = 0; i < xml.size(); ++i) {
    if (xml[i] == '&') {
      const auto semi = xml.find(';', i);
      if (semi == std::string::npos || semi - i > 8) return "bare & at " + std::to_string(i);
      continue;
    }
    if (xml[i] != '<') continue;
    const auto end = xml.find('>', i);
    if (end == std::string::npos) return "unterminated tag at " + std::to_string(i);
    std::string tag = xml.substr(i + 1, end - i - 1);
    i = end;
    if (tag.empty()) return "empty tag";
    if (tag[0] == '/') {
      if (stack.empty() || stack.back() != tag.substr(1)) return "mismatched </" + tag.substr(1) + ">";
      stack.pop_back();
      continue;
    }
    const bool self_closing = tag.back() == '/';
    const std::string name = tag.substr(0, tag.find_first_of(" /"));
    // every attribute is name="value"
    static const std::regex attr(R"re(\s+[\w:-]+="[^"<]*")re");
    std::string rest = tag.substr(name.size(), tag.size() - name.size() - (self_closing ? 1 : 0));
    if (!std::regex_replace(rest, attr, "").empty() && rest.find_first_not_of(' ') != std::string::npos &&
        std::regex_replace(rest, attr, "").find_first_not_of(' ') != std::string::npos)
      return "bad attributes in <" + name + ">: " + rest;
    if (!self_closing) stack.push_back(name);
  }
  return stack.empty() ? "" : "unclosed <" + stack.back() + ">";
}

std::vector<std::string> svgs_in(const std::string& html) {
  std::vector<std::string> out;
  for (size_t at = html.find("<svg"); at != std::string::npos; at = html.find("<svg", at + 1))
    out.push_back(html.substr(at, html.find("</svg>", at) + 6 - at));
  return out;
}

TEST(Report, XmlCheckerCatchesBrokenSvg) {
  EXPECT_EQ(xml_problem(R"(<svg a="1"><g><text>x &amp; y</text></g><line x="2"/></svg>)"), "");
  EXPECT_NE(xml_problem(R"(<svg><g></svg>)"), "");
  EXPECT_NE(xml_problem(R"(<svg a=1></svg>)"), "");
  EXPECT_NE(xml_problem(R"(<svg><text>a & b</text></svg>)"), "");
  Chart c{"a <b> & \"c\"", "x", "y", {{"s&1", {{0, 1}, {1, 2}}}}, {{0.5, "inc <1>"}}, false};
  EXPECT_EQ(xml_problem(render_svg(c)), "") << render_svg(c);
  EXPECT_NE(render_svg(Chart{"empty", "x", "y", {}, {}, false}).find("no data"), std::string::npos);
}

TEST(Report, OneRunAndAComparisonOfTwo) {
  TempDir dir;
  write_text_file_atomic(dir / "run.json", fmt::format(R"({{
    "model": {{"path": "{}", "device": "cpu"}}, "data": {{"train": "{}", "validation": "{}", "max_seq_len": 64}},
    "train": {{"output_dir": "a", "max_steps": 6, "batch_size": 8}}, "optim": {{"lr": 3e-3}},
    "checkpoint": {{"every_steps": 0}}, "log": {{"every_steps": 1, "progress": "never"}},
    "eval": {{"every_steps": 2, "harmful": "{}", "max_new_tokens": 4, "exact_match_examples": 2}},
    "safety": {{"mix": {{"pool": "{}", "budget": 6, "per_batch": 1}}}}}})",
                                                     fixture("golden/gqa_default_rope"), fixture("train/train.jsonl"),
                                                     fixture("train/validation.jsonl"), fixture("safety/harmful_eval.jsonl"),
                                                     fixture("safety/pool.jsonl")));
  for (const char* name : {"a", "b"}) {
    auto r = run_safetune("train --config " + shell_quote(dir / "run.json") + " --set train.output_dir=" + shell_quote(dir / name) +
                          (name[0] == 'b' ? " --set optim.lr=1e-2" : ""));
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  // An incident, as the gate writes it, to check it is drawn and listed.
  write_text_file_atomic(dir / "b/incidents.jsonl", R"({"type":"incident","step":2,"at_step":4,"violations":["harmful toxicity rate 0.5 exceeds 0.2"],"action":"increase_lambda","restored_to":2,"lambda_scale":2.0,"incident":1})" "\n");

  auto r = run_safetune("report " + shell_quote(dir / "a") + " --out " + shell_quote(dir / "one.html"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto one = read_text_file(dir / "one.html");
  for (const auto& svg : svgs_in(one)) EXPECT_EQ(xml_problem(svg), "") << svg;
  for (const char* series : {"loss", "ce", "lr", "val_ce", "harmful_refusal_rate", "exact_match"})
    EXPECT_NE(one.find(fmt::format("<polyline data-series=\"{}\"", series)), std::string::npos) << series;
  EXPECT_EQ(one.find("Trade-off"), std::string::npos) << "a single run has no trade-off chart";
  EXPECT_NE(one.find("6 examples by stratified"), std::string::npos);
  EXPECT_NE(one.find("<circle"), std::string::npos) << "the subset's category counts";

  r = run_safetune("report " + shell_quote(dir / "a") + " " + shell_quote(dir / "b") + " --out " + shell_quote(dir / "two.html"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto two = read_text_file(dir / "two.html");
  const auto svgs = svgs_in(two);
  EXPECT_GE(svgs.size(), 14u);
  for (const auto& svg : svgs) EXPECT_EQ(xml_problem(svg), "") << svg;
  EXPECT_NE(two.find("<polyline data-series=\"a\""), std::string::npos);
  EXPECT_NE(two.find("<polyline data-series=\"b\""), std::string::npos);
  EXPECT_NE(two.find("Trade-off"), std::string::npos);
  EXPECT_NE(two.find("<g data-series=\"a\"><circle"), std::string::npos) << "one trade-off point per run";
  EXPECT_NE(two.find("class=\"marker\""), std::string::npos) << "the incident is marked on the charts";
  EXPECT_NE(two.find("harmful toxicity rate 0.5 exceeds 0.2"), std::string::npos);
  EXPECT_EQ(two.find("http://") == std::string::npos || two.find("http://www.w3.org/2000/svg") != std::string::npos, true);
  EXPECT_EQ(two.find("<script"), std::string::npos);

  r = run_safetune("report " + shell_quote(dir / "nothing") + " --out " + shell_quote(dir / "x.html"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("not a run folder (no metrics.jsonl)"), std::string::npos) << r.output;
  r = run_safetune("report " + shell_quote(dir / "a"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("--out is required"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace st
