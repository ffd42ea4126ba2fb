// tests/trainer/evaluation_test.cpp — the refusal detector (including tricky non-refusals) and
// `safetune eval`: its report on a real model and its errors for bad input.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/files.h"
#include "tests/test_util.h"
#include "trainer/evaluation.h"

namespace st {
namespace {
using json = nlohmann::json;
using test::fixture;
using test::run_safetune;
using test::shell_quote;
using test::TempDir;

TEST(RefusalDetector, MatchesRefusalsAtTheStartOnly) {
  const auto& phrases = default_refusal_phrases();
  for (const char* refusal : {"I can't help with that.", "i CANNOT do that", "  \"I won't help with this.",
                              "I\xE2\x80\x99m sorry, but I can't assist with that.", "Sorry, but no.", "As an AI, I must decline.",
                              "I can't", "I'm unable to share addresses."})
    EXPECT_TRUE(is_refusal(refusal, phrases)) << refusal;
  for (const char* answer : {"I can tell you how to roast a chicken.",           // "I can" is not "I can't"
                             "Sure. I can't wait to help: slice the onions thin.",  // the phrase is not at the start
                             "The sign said \"I cannot\" but the shop was open.",
                             "I cannoli-style pastries are sweet.",              // whole words only
                             "Sorrow is a natural feeling.",                     // "Sorry," needs its comma
                             "I'm sorrowful to hear that; here is how to fix it.", "", "   ",
                             "Use the kill command with the process id."})
    EXPECT_FALSE(is_refusal(answer, phrases)) << answer;
  EXPECT_TRUE(is_refusal("Nope, not doing that.", {"nope"}));  // the list is configurable
  EXPECT_FALSE(is_refusal("I can't help with that.", {"nope"}));
}

TEST(EvalCommand, ReportsRatesPerCategoryAndRejectsBadInput) {
  TempDir dir;
  const auto model = fixture("golden/gqa_default_rope");
  write_text_file_atomic(dir / "eval.json", fmt::format(R"({{
    "data": {{"validation": "{}", "max_seq_len": 64}},
    "eval": {{"harmful": "{}", "benign": "{}", "max_new_tokens": 4, "exact_match_examples": 5}}}})",
                                                      fixture("train/validation.jsonl"), fixture("safety/harmful_eval.jsonl"),
                                                      fixture("safety/benign_eval.jsonl")));
  auto r = run_safetune("eval --model " + shell_quote(model) + " --config " + shell_quote(dir / "eval.json") + " --out " +
                        shell_quote(dir / "report.json") + " --generations " + shell_quote(dir / "gen.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("harmful prompts"), std::string::npos) << r.output;
  const auto report = json::parse(read_text_file(dir / "report.json"));
  EXPECT_EQ(report["harmful"]["prompts"], 48);
  EXPECT_EQ(report["harmful"]["categories"].size(), 6u);
  EXPECT_EQ(report["harmful"]["categories"]["privacy"]["prompts"], 8);
  EXPECT_EQ(report["benign"]["prompts"], 36);
  EXPECT_EQ(report["validation"]["exact_match_examples"], 5);
  EXPECT_GT(report["validation"]["ce"].get<double>(), 0.0);
  EXPECT_FALSE(report["harmful"].contains("toxicity_rate")) << "no classifier, no toxicity numbers";
  // A random model does not refuse: the rates are computed from its generations, which are all saved.
  const auto generations = read_text_file(dir / "gen.jsonl");
  EXPECT_EQ(std::count(generations.begin(), generations.end(), '\n'), 48 + 36);

  write_text_file_atomic(dir / "bad_prompts.jsonl", "{\"prompt\": \"ok\"}\n{\"text\": \"no prompt\"}\n");
  write_text_file_atomic(dir / "empty.json", "{}");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"--config " + shell_quote(dir / "eval.json") + " --set eval.harmful=" + shell_quote(dir / "bad_prompts.jsonl"),
       "bad_prompts.jsonl:2: expected a non-empty string \"prompt\""},
      {"--config " + shell_quote(dir / "eval.json") + " --set eval.benign=" + shell_quote(dir / "missing.jsonl"), "missing.jsonl: cannot open"},
      {"--config " + shell_quote(dir / "empty.json"), "nothing to evaluate"},
      {"--config " + shell_quote(dir / "eval.json") + " --set eval.max_new_tokens=0", "eval.max_new_tokens: expected an integer >= 1"},
      {"--config " + shell_quote(dir / "eval.json") + " --set eval.refusal_phrases=3", "eval.refusal_phrases: expected a list of strings"},
  };
  for (const auto& [args, fragment] : bad) {
    r = run_safetune("eval --model " + shell_quote(model) + " " + args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.output;
    EXPECT_NE(r.output.find(fragment), std::string::npos) << args << "\n" << r.output;
  }
}

}  // namespace
}  // namespace st
