// tests/losses/lambda_controller_test.cpp — λ schedules, the adaptive dual-ascent controller on a synthetic
// plant, its checkpointable state, and malformed λ specs.
#include <gtest/gtest.h>

#include <cmath>

#include "losses/lambda_controller.h"
#include "tests/test_util.h"

namespace st {
namespace {
using json = nlohmann::json;

TEST(LambdaController, Schedules) {
  EXPECT_EQ(LambdaController(json(0.3), "l").value(1000), 0.3);
  EXPECT_TRUE(LambdaController(json(0.0), "l").always_zero());
  LambdaController warm(json{{"type", "linear_warmup"}, {"value", 1.0}, {"warmup_steps", 4}}, "l");
  EXPECT_DOUBLE_EQ(warm.value(0), 0.0);
  EXPECT_DOUBLE_EQ(warm.value(2), 0.5);
  EXPECT_DOUBLE_EQ(warm.value(10), 1.0);
  LambdaController steps(json{{"type", "schedule"}, {"steps", {{0, 0.0}, {10, 0.2}, {20, 1.0}}}}, "l");
  EXPECT_EQ(steps.value(9), 0.0);
  EXPECT_EQ(steps.value(10), 0.2);
  EXPECT_EQ(steps.value(25), 1.0);
  EXPECT_FALSE(steps.always_zero());
}

// A plant whose toxicity falls as λ grows, p(λ) = 0.6 / (1 + 4λ): unconstrained (λ → 0) it sits at 0.6.
TEST(LambdaController, AdaptiveDrivesTheWindowedToxicityToTheTarget) {
  LambdaController c(json{{"type", "adaptive"}, {"initial", 0.01}, {"target", 0.15}, {"lr", 1.0}, {"window", 10}, {"max", 1000}}, "l");
  double p = 0;
  for (int step = 0; step < 400; ++step) {
    p = 0.6 / (1 + 4 * c.value(step));
    c.observe(p);
  }
  std::printf("[adaptive λ] after 400 steps: λ %.4f (exact solution 0.75), windowed P(toxic) %.4f (target 0.15)\n",
              c.value(400), c.window_mean());
  EXPECT_NEAR(c.window_mean(), 0.15, 0.01);
  EXPECT_NEAR(c.value(400), 0.75, 0.05);
}

TEST(LambdaController, StateRoundTripsExactly) {
  const json spec = {{"type", "adaptive"}, {"initial", 0.5}, {"target", 0.1}, {"lr", 0.3}, {"window", 3}, {"max", 10}};
  LambdaController a(spec, "l"), b(spec, "l");
  for (double p : {0.4, 0.2, 0.3, 0.5}) a.observe(p);
  b.load_state(json::parse(a.state().dump()), "ckpt");
  a.observe(0.05);
  b.observe(0.05);
  EXPECT_EQ(a.value(0), b.value(0));
  EXPECT_EQ(a.state(), b.state());
}

TEST(LambdaController, MalformedSpecsNameTheField) {
  struct Case {
    json spec;
    const char* fragment;
  };
  const Case cases[] = {
      {json(-1), "expected λ >= 0"},
      {json("high"), "expected a number or an object"},
      {json{{"type", "cyclic"}}, "'cyclic' is not one of"},
      {json{{"type", "constant"}}, "missing 'value'"},
      {json{{"type", "linear_warmup"}, {"value", 1}, {"warmup_steps", 0}}, "safety.lambda.warmup_steps"},
      {json{{"type", "schedule"}, {"steps", {{10, 0.1}, {5, 0.2}}}}, "steps must increase"},
      {json{{"type", "adaptive"}, {"initial", 0.1}, {"target", 2}, {"lr", 1}, {"window", 5}, {"max", 10}}, "safety.lambda.target"},
      {json{{"type", "adaptive"}, {"initial", 0.1}, {"target", 0.1}, {"lr", 1}, {"window", 5}, {"max", 10}, {"tau", 1}}, "unknown field 'tau'"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.fragment);
    test::expect_error([&] { LambdaController(c.spec, "safety.lambda"); }, ExitCode::bad_input, c.fragment);
  }
}

}  // namespace
}  // namespace st
