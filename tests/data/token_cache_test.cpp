// tests/data/token_cache_test.cpp — the parallel reader gives the same examples whatever the threads and
// chunks; bad lines deep in a file keep their file:line; the token cache is used when its key matches, and
// a damaged, cut or foreign cache is rebuilt, never trusted; an unusable cache folder only costs the cache; the
// least recently used cache files go when the folder outgrows its limit.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/files.h"
#include "common/sha256.h"
#include "data/data_reader.h"
#include "data/sentencepiece_tokenizer.h"
#include "data/token_cache.h"
#include "tests/test_util.h"

namespace st {
namespace {
namespace fs = std::filesystem;
using test::expect_error;
using test::fixture;
using test::TempDir;

const Tokenizer& tok() { return test::fixture_tokenizer(); }

DataOptions options(int64_t max_seq_len = 64) {
  DataOptions o;
  o.max_seq_len = max_seq_len;
  return o;
}

// The fixture's records repeated to `copies` times its size, with blank lines between some of them.
std::string repeated_fixture(const TempDir& dir, int copies) {
  const std::string once = read_text_file(fixture("train/train.jsonl"));
  std::string text;
  for (int i = 0; i < copies; ++i) text += once + (i % 3 == 0 ? "\n\n" : "");
  write_text_file_atomic(dir / "d.jsonl", text);
  return dir / "d.jsonl";
}

void expect_same(const TokenizedData& a, const TokenizedData& b) {
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.tokens(), b.tokens());
  for (size_t i = 0; i < a.size(); ++i) {
    const Example x = a.example(i), y = b.example(i);
    ASSERT_EQ(x.input_ids, y.input_ids) << "example " << i;
    ASSERT_EQ(x.labels, y.labels) << "example " << i;
    ASSERT_EQ(x.line, y.line) << "example " << i;
    ASSERT_EQ(x.file, y.file) << "example " << i;
    ASSERT_EQ(x.truncated, y.truncated) << "example " << i;
  }
  EXPECT_EQ(stats_to_json(a.stats()), stats_to_json(b.stats()));
}

ReadSettings settings(int threads, size_t chunk_bytes, const std::string& cache_dir = "") {
  ReadSettings s;
  s.threads = threads;
  s.chunk_bytes = chunk_bytes;
  s.cache_dir = cache_dir;
  s.tokenizer_identity = "fixture";
  return s;
}

TEST(DataReader, ThreadsAndChunksDoNotChangeTheExamples) {
  TempDir dir;
  const auto file = repeated_fixture(dir, 7);
  const auto one = read_tokenized({file}, tok(), options(24), settings(1, 1 << 20)).data;
  const auto many = read_tokenized({file}, tok(), options(24), settings(3, 997)).data;
  EXPECT_GT(one.stats().truncated, 0);
  EXPECT_GT(one.stats().dropped_overlong, 0);
  expect_same(one, many);
  // The oracle: each line tokenized alone, in order, line numbers counting blank lines.
  std::istringstream in(read_text_file(file));
  std::string line;
  size_t kept = 0;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    const LineOutcome outcome = tokenize_line(line, tok(), options(24));
    if (outcome.kind != LineOutcome::Kept) continue;
    ASSERT_LT(kept, many.size());
    EXPECT_EQ(many.line(kept), n);
    ASSERT_EQ(many.example(kept++).input_ids, outcome.example.input_ids) << "line " << n;
  }
  EXPECT_EQ(kept, many.size());
}

TEST(DataReader, ABadLineDeepInAFileIsNamedByFileAndLineWhateverTheThreads) {
  TempDir dir;
  std::string text = read_text_file(repeated_fixture(dir, 5));
  size_t at = 0;
  for (int line = 1; line < 300; ++line) at = text.find('\n', at) + 1;
  text.insert(at, "{\"prompt\": 3}\n");  // becomes line 300
  write_text_file_atomic(dir / "d.jsonl", text);
  expect_error([&] { read_tokenized({dir / "d.jsonl"}, tok(), options(), settings(3, 500)); }, ExitCode::bad_input,
               "d.jsonl:300: \"prompt\" must be a string");
  DataOptions skip = options();
  skip.on_bad_line = OnBadLine::Skip;
  const auto a = read_tokenized({dir / "d.jsonl"}, tok(), skip, settings(1, 1 << 20)).data;
  const auto b = read_tokenized({dir / "d.jsonl"}, tok(), skip, settings(3, 500)).data;
  expect_same(a, b);
  ASSERT_EQ(b.stats().skipped.size(), 1u);
  EXPECT_NE(b.stats().skipped[0].find("d.jsonl:300:"), std::string::npos) << b.stats().skipped[0];
}

TEST(TokenCache, ASecondReadMapsTheCacheAndGivesTheSameExamples) {
  TempDir dir;
  const auto file = repeated_fixture(dir, 3);
  const auto first = read_tokenized({file}, tok(), options(), settings(2, 4096, dir / "cache"));
  EXPECT_FALSE(first.cache_hit);
  ASSERT_TRUE(fs::exists(first.cache_file));
  const auto second = read_tokenized({file}, tok(), options(), settings(2, 4096, dir / "cache"));
  EXPECT_TRUE(second.cache_hit);
  EXPECT_EQ(second.cache_file, first.cache_file);
  EXPECT_EQ(second.file_sha256, first.file_sha256);
  EXPECT_EQ(first.file_sha256.at(file), sha256_file(file));
  expect_same(first.data, second.data);
  // Provenance names the files as given now: the same bytes elsewhere hit the cache under their new name.
  fs::copy_file(file, dir / "moved.jsonl");
  const auto moved = read_tokenized({dir / "moved.jsonl"}, tok(), options(), settings(2, 4096, dir / "cache"));
  EXPECT_TRUE(moved.cache_hit);
  EXPECT_EQ(moved.data.file(0), dir / "moved.jsonl");
}

TEST(TokenCache, AnythingThatChangesTokensChangesTheKey) {
  const std::vector<std::string> data{"aa"};
  const auto base = token_cache_key(data, "tok", options());
  EXPECT_EQ(base, token_cache_key(data, "tok", options()));
  EXPECT_NE(base, token_cache_key({"ab"}, "tok", options()));
  EXPECT_NE(base, token_cache_key(data, "tok2", options()));
  EXPECT_NE(base, token_cache_key(data, "tok", options(65)));
  DataOptions o = options();
  o.system_prompt = "Be brief.";
  EXPECT_NE(base, token_cache_key(data, "tok", o));
  o = options();
  o.chat_template = "chatml";
  EXPECT_NE(base, token_cache_key(data, "tok", o));
  o = options();
  o.truncation = Truncation::Drop;
  EXPECT_NE(base, token_cache_key(data, "tok", o));
}

// Damage at `offset` (from the end when negative), or cut the file to `keep` bytes.
void damage(const std::string& path, int64_t offset) {
  std::string bytes = read_text_file(path);
  bytes[static_cast<size_t>(offset >= 0 ? offset : static_cast<int64_t>(bytes.size()) + offset)] ^= 0x5a;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

TEST(TokenCache, ADamagedOrCutCacheIsRebuiltNotTrusted) {
  TempDir dir;
  const auto file = repeated_fixture(dir, 2);
  const auto clean = read_tokenized({file}, tok(), options(), settings(2, 4096, dir / "cache"));
  const auto size = fs::file_size(clean.cache_file);
  for (int64_t where : {int64_t{3}, int64_t{40}, static_cast<int64_t>(size / 2), int64_t{-70}, int64_t{-1}}) {
    damage(clean.cache_file, where);
    testing::internal::CaptureStderr();
    const auto again = read_tokenized({file}, tok(), options(), settings(2, 4096, dir / "cache"));
    const std::string said = testing::internal::GetCapturedStderr();
    EXPECT_FALSE(again.cache_hit) << "damage at " << where;
    EXPECT_NE(said.find("not used"), std::string::npos) << said;
    expect_same(clean.data, again.data);
    EXPECT_TRUE(read_tokenized({file}, tok(), options(), settings(2, 4096, dir / "cache")).cache_hit);  // rewritten whole
  }
  fs::resize_file(clean.cache_file, size - 100);
  testing::internal::CaptureStderr();
  EXPECT_FALSE(read_tokenized({file}, tok(), options(), settings(2, 4096, dir / "cache")).cache_hit);
  EXPECT_NE(testing::internal::GetCapturedStderr().find("checksum"), std::string::npos);
}

TEST(TokenCache, AFolderThatCannotHoldTheCacheOnlyCostsTheCache) {
  TempDir dir;
  const auto file = repeated_fixture(dir, 1);
  write_text_file_atomic(dir / "not-a-folder", "");
  testing::internal::CaptureStderr();
  const auto read = read_tokenized({file}, tok(), options(), settings(2, 4096, dir / "not-a-folder/cache"));
  const std::string said = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(read.cache_file.empty());
  EXPECT_GT(read.data.size(), 90u);
  EXPECT_NE(said.find("token cache not written"), std::string::npos) << said;
  EXPECT_NE(said.find("not-a-folder"), std::string::npos) << said;
}

// Sets an environment variable for the scope (unset = nullptr) and puts the old value back.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    value ? ::setenv(name, value, 1) : ::unsetenv(name);
  }
  ~ScopedEnv() { old_ ? ::setenv(name_, old_->c_str(), 1) : ::unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(TokenCache, TheLeastRecentlyUsedFilesGoWhenTheFolderOutgrowsItsLimit) {
  TempDir dir;
  const auto file = repeated_fixture(dir, 3);
  auto s = settings(2, 4096, dir / "cache");  // no limit yet
  const auto a = read_tokenized({file}, tok(), options(64), s);  // each max_seq_len is its own cache file
  const auto b = read_tokenized({file}, tok(), options(65), s);
  EXPECT_TRUE(a.cache_evicted.empty() && b.cache_evicted.empty());
  const auto now = fs::file_time_type::clock::now();
  fs::last_write_time(a.cache_file, now - std::chrono::minutes(10));
  fs::last_write_time(b.cache_file, now - std::chrono::minutes(5));
  s.cache_max_bytes = fs::file_size(a.cache_file) * 5 / 2;  // room for two of them

  // A hit is a use: it makes a the most recently used, so writing a third file removes b, not a.
  const auto hit = read_tokenized({file}, tok(), options(64), s);
  EXPECT_TRUE(hit.cache_hit);
  EXPECT_GT(fs::last_write_time(a.cache_file), now - std::chrono::minutes(1));
  const auto c = read_tokenized({file}, tok(), options(66), s);
  EXPECT_EQ(c.cache_evicted, std::vector<std::string>{b.cache_file});
  EXPECT_TRUE(fs::exists(a.cache_file) && fs::exists(c.cache_file));
  EXPECT_NE(c.summary().dump().find("cache_evicted"), std::string::npos);

  // An evicted cache costs only time: the data are tokenized again, identically, and the oldest use goes.
  fs::last_write_time(a.cache_file, now - std::chrono::minutes(1));
  const auto again = read_tokenized({file}, tok(), options(65), s);
  EXPECT_FALSE(again.cache_hit);
  expect_same(b.data, again.data);
  EXPECT_EQ(again.cache_evicted, std::vector<std::string>{a.cache_file});

  // The file just written stays even when it alone is over the limit; another writer's .part is not touched.
  const auto part = dir / "cache/other.tokens.123.part";
  write_text_file_atomic(part, "being written");
  s.cache_max_bytes = 1;
  const auto d = read_tokenized({file}, tok(), options(67), s);
  EXPECT_EQ(d.cache_evicted.size(), 2u);  // c and again's
  EXPECT_TRUE(fs::exists(d.cache_file) && fs::exists(part));
}

TEST(TokenCache, TheCacheFolderSettingFollowsTheEnvironment) {
  EXPECT_EQ(token_cache_dir("off"), "");
  EXPECT_EQ(token_cache_dir("/x/y"), "/x/y");
  {
    ScopedEnv env("SAFETUNE_CACHE_DIR", "/from/env");
    EXPECT_EQ(token_cache_dir("auto"), "/from/env");
  }
  ScopedEnv no_env("SAFETUNE_CACHE_DIR", nullptr), xdg("XDG_CACHE_HOME", "/xdg");
  EXPECT_EQ(token_cache_dir("auto"), "/xdg/safetune/tokens");
}

}  // namespace
}  // namespace st
