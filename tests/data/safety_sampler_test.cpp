// tests/data/safety_sampler_test.cpp — the safety pool reader, each selection strategy on hand-built
// pools and embeddings (the chosen examples are known in advance), and the per-batch mixer's determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "common/check.h"
#include "common/files.h"
#include "data/safety_sampler.h"
#include "tests/test_util.h"

namespace st {
namespace {
using test::expect_error;
using test::TempDir;

SafetyRecord record(const std::string& category, const std::string& behavior, int n) {
  SafetyRecord r;
  r.id = fmt::format("{}-{}-{}", category, behavior, n);
  r.prompt = "p" + r.id;
  r.response = "r" + r.id;
  r.category = category;
  r.behavior = behavior;
  return r;
}

// `refusals` refusals per category plus two examples of every other behaviour.
std::vector<SafetyRecord> pool_of(const std::map<std::string, int>& refusals) {
  std::vector<SafetyRecord> pool;
  for (const auto& [category, n] : refusals) {
    for (int i = 0; i < n; ++i) pool.push_back(record(category, "refusal", i));
    for (const char* b : {"safe_completion", "compliance", "over_refusal"})
      for (int i = 0; i < 2; ++i) pool.push_back(record(category, b, i));
  }
  return pool;
}

std::map<std::string, int64_t> chosen_categories(const std::vector<SafetyRecord>& pool,
                                                 const std::vector<SelectedExample>& chosen) {
  std::map<std::string, int64_t> counts;
  for (const auto& s : chosen) counts[pool[s.pool_index].category] += 1;
  return counts;
}

SelectionOptions options(const std::string& strategy, int64_t budget, uint64_t seed = 7) {
  SelectionOptions o;
  o.strategy = strategy;
  o.budget = budget;
  o.seed = seed;
  return o;
}

TEST(SafetyPool, ReadsRecordsAndRejectsBadLines) {
  TempDir dir;
  write_text_file_atomic(dir / "pool.jsonl",
                         R"({"prompt": "a", "response": "b", "category": "hate", "behavior": "refusal", "id": "x1"})"
                         "\n\n"
                         R"({"prompt": "c", "response": "d", "category": "privacy", "behavior": "compliance"})"
                         "\n");
  const auto pool = read_safety_pool(dir / "pool.jsonl");
  ASSERT_EQ(pool.size(), 2u);
  EXPECT_EQ(pool[0].id, "x1");
  EXPECT_EQ(pool[1].id, dir / "pool.jsonl:3");  // no id: FILE:LINE
  EXPECT_EQ(pool[1].line, 3);

  const std::vector<std::pair<std::string, std::string>> bad = {
      {"not json", ":1: not valid JSON"},
      {R"({"response": "b", "category": "c", "behavior": "refusal"})", ":1: missing \"prompt\""},
      {R"({"prompt": "a", "response": 3, "category": "c", "behavior": "refusal"})", "\"response\" must be a string"},
      {R"({"prompt": "a", "response": "b", "category": "", "behavior": "refusal"})", "\"category\" is empty"},
      {R"({"prompt": "a", "response": "b", "category": "c", "behavior": "refuse"})",
       "\"behavior\" is \"refuse\"; expected one of refusal, safe_completion, compliance, over_refusal"},
      {R"({"prompt": "a", "response": "b", "category": "c", "behavior": "refusal", "id": "q"})"
       "\n"
       R"({"prompt": "a", "response": "b", "category": "c", "behavior": "refusal", "id": "q"})",
       ":2: duplicate \"id\" \"q\""},
      {"", "the safety pool has no records"},
  };
  for (const auto& [text, fragment] : bad) {
    write_text_file_atomic(dir / "bad.jsonl", text + "\n");
    expect_error([&] { read_safety_pool(dir / "bad.jsonl"); }, ExitCode::bad_input, fragment);
  }
}

TEST(SafetySelection, StratifiedGivesExactCountsAndTheDocumentedRemainderRule) {
  const auto pool = pool_of({{"a", 10}, {"b", 10}, {"c", 10}, {"d", 10}});
  auto counts = chosen_categories(pool, select_safety_subset(pool, options("stratified", 8)));
  EXPECT_EQ(counts, (std::map<std::string, int64_t>{{"a", 2}, {"b", 2}, {"c", 2}, {"d", 2}}));
  // 10 = 4 x 2 + 2: the remainder goes one each to the first categories by name.
  counts = chosen_categories(pool, select_safety_subset(pool, options("stratified", 10)));
  EXPECT_EQ(counts, (std::map<std::string, int64_t>{{"a", 3}, {"b", 3}, {"c", 2}, {"d", 2}}));
  // A category short of its share gives all it has; the shortfall goes round the others in name order.
  const auto short_pool = pool_of({{"a", 10}, {"b", 10}, {"c", 10}, {"d", 1}});
  counts = chosen_categories(short_pool, select_safety_subset(short_pool, options("stratified", 12)));
  EXPECT_EQ(counts, (std::map<std::string, int64_t>{{"a", 4}, {"b", 4}, {"c", 3}, {"d", 1}}));
  EXPECT_EQ(stratified_quotas({{"x", 5}, {"y", 5}, {"z", 5}}, 15),
            (std::map<std::string, int64_t>{{"x", 5}, {"y", 5}, {"z", 5}}));
}

TEST(SafetySelection, BehaviourFilterChoosesOnlyRefusals) {
  const auto pool = pool_of({{"a", 5}, {"b", 5}, {"c", 5}});
  for (const char* strategy : {"random", "stratified"}) {
    const auto chosen = select_safety_subset(pool, options(strategy, 15));
    ASSERT_EQ(chosen.size(), 15u);
    std::set<size_t> distinct;
    for (const auto& s : chosen) {
      EXPECT_EQ(pool[s.pool_index].behavior, "refusal") << strategy;
      distinct.insert(s.pool_index);
    }
    EXPECT_EQ(distinct.size(), 15u) << "no example is chosen twice";
  }
  // Without the filter every behaviour is a candidate: a budget of the whole pool takes all of them.
  auto o = options("random", static_cast<int64_t>(pool.size()));
  o.behaviors = {};
  std::set<std::string> behaviors;
  for (const auto& s : select_safety_subset(pool, o)) behaviors.insert(pool[s.pool_index].behavior);
  EXPECT_EQ(behaviors.size(), 4u);
}

TEST(SafetySelection, ImpossibleRequestsSayWhatIsAvailable) {
  const auto pool = pool_of({{"hate", 3}, {"privacy", 2}});
  expect_error([&] { select_safety_subset(pool, options("stratified", 6)); }, ExitCode::bad_input,
               "6 examples requested but the filtered pool has only 5 (hate=3, privacy=2)");
  expect_error([&] { select_safety_subset(pool, options("random", 0)); }, ExitCode::bad_input, "at least one");
  auto o = options("stratified", 2);
  o.categories = {"hate", "violence"};
  expect_error([&] { select_safety_subset(pool, o); }, ExitCode::bad_input,
               "category 'violence' has no examples with behavior in [refusal] in the pool; available: hate=3");
  o = options("stratified", 2);
  o.behaviors = {"refusals"};
  expect_error([&] { select_safety_subset(pool, o); }, ExitCode::bad_input, "unknown behaviour 'refusals'");
}

TEST(SafetySelection, RandomAndStratifiedAreSeeded) {
  const auto pool = pool_of({{"a", 20}, {"b", 20}, {"c", 20}});
  for (const char* strategy : {"random", "stratified"}) {
    auto ids = [&](uint64_t seed) {
      std::vector<size_t> out;
      for (const auto& s : select_safety_subset(pool, options(strategy, 9, seed))) out.push_back(s.pool_index);
      return out;
    };
    EXPECT_EQ(ids(1), ids(1)) << strategy;
    EXPECT_NE(ids(1), ids(2)) << strategy;
  }
}

// Unit vectors at the given angles (degrees) in the plane, embedded in 3 dimensions.
torch::Tensor at_angles(const std::vector<double>& degrees) {
  std::vector<double> flat;
  for (double d : degrees) {
    const double r = d * M_PI / 180.0;
    flat.insert(flat.end(), {2.0 * std::cos(r), 2.0 * std::sin(r), 0.0});  // length 2: selection must normalise
  }
  return torch::tensor(flat, torch::kFloat64).reshape({-1, 3});
}

TEST(SafetySelection, PrototypeChoosesTheExamplesNearestTheirCategoryCentroid) {
  // Category a spreads symmetrically around 0 degrees, b around 90: the centroids are at 0 and 90, so the
  // prototypes are the +-5 degree members of a and the 88/92 members of b.
  std::vector<SafetyRecord> pool;
  for (int i = 0; i < 4; ++i) pool.push_back(record("a", "refusal", i));
  for (int i = 0; i < 4; ++i) pool.push_back(record("b", "refusal", i));
  const auto embeddings = at_angles({-40, -5, 5, 40, 50, 88, 92, 130});
  const auto chosen = select_safety_subset(pool, options("prototype", 4), embeddings);
  std::set<size_t> got;
  for (const auto& s : chosen) got.insert(s.pool_index);
  EXPECT_EQ(got, (std::set<size_t>{1, 2, 5, 6}));
  for (const auto& s : chosen) {
    EXPECT_NEAR(s.score, 1.0 - std::cos(s.stratum == "a" ? 5 * M_PI / 180 : 2 * M_PI / 180), 1e-9) << s.reason;
    EXPECT_NE(s.reason.find("cosine distance"), std::string::npos);
  }
}

TEST(SafetySelection, SimilarChoosesTheExamplesClosestToTheTaskCentroid) {
  std::vector<SafetyRecord> pool;
  for (int i = 0; i < 6; ++i) pool.push_back(record(i % 2 ? "a" : "b", "refusal", i));
  const auto embeddings = at_angles({170, 20, -3, 90, 10, -60});
  const auto centroid = torch::tensor({1.0, 0.0, 0.0}, torch::kFloat64);
  const auto chosen = select_safety_subset(pool, options("similar", 3), embeddings, centroid);
  ASSERT_EQ(chosen.size(), 3u);
  EXPECT_EQ(chosen[0].pool_index, 2u);  // -3 degrees
  EXPECT_EQ(chosen[1].pool_index, 4u);  // 10
  EXPECT_EQ(chosen[2].pool_index, 1u);  // 20
  EXPECT_NEAR(chosen[0].score, std::cos(3 * M_PI / 180), 1e-12);
}

TEST(SafetyMixer, CyclesCategoriesCoversEachGroupPerPassAndResumesExactly) {
  SafetyMixer straight({{0, 1, 2}, {3, 4}, {5, 6, 7, 8}}, /*seed=*/11);
  const auto all = straight.draw(/*first=*/0, /*count=*/36);
  for (size_t n = 0; n < all.size(); ++n) {
    const size_t g = n % 3;
    EXPECT_EQ(all[n] <= 2 ? 0u : all[n] <= 4 ? 1u : 2u, g) << "draw " << n << " must come from group " << g;
  }
  // The first pass over group 2 (its draws 0..3 are overall draws 2, 5, 8, 11) visits each member once.
  EXPECT_EQ((std::set<size_t>{all[2], all[5], all[8], all[11]}), (std::set<size_t>{5, 6, 7, 8}));
  // A fresh mixer started mid-stream (a resumed run) draws exactly what the straight run drew.
  SafetyMixer resumed({{0, 1, 2}, {3, 4}, {5, 6, 7, 8}}, 11);
  const auto tail = resumed.draw(17, 19);
  EXPECT_EQ(tail, std::vector<size_t>(all.begin() + 17, all.end()));
  SafetyMixer other({{0, 1, 2}, {3, 4}, {5, 6, 7, 8}}, 12);
  EXPECT_NE(other.draw(0, 36), all);
}

}  // namespace
}  // namespace st
