// tests/data/examples_test.cpp — JSONL formats, chat templates and loss masks, truncation, provenance,
// malformed data files (exit 2 naming file:line, or skipped and counted), and deterministic batching.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "common/files.h"
#include "common/tokens.h"
#include "data/batcher.h"
#include "data/data_reader.h"
#include "data/sentencepiece_tokenizer.h"
#include "tests/test_util.h"

namespace st {
namespace {
using test::expect_error;
using test::fixture;
using test::TempDir;

const Tokenizer& tok() { return test::fixture_tokenizer(); }

std::vector<Example> read_lines(const TempDir& dir, const std::string& lines, DataOptions o, DataStats* stats = nullptr) {
  write_text_file_atomic(dir / "d.jsonl", lines);
  DataStats local;
  return read_examples({dir / "d.jsonl"}, tok(), o, stats ? *stats : local);
}

// The trained (label) tokens decode to exactly the response, and the last one is EOS.
void expect_response(const Example& ex, const std::string& response, bool bos_first = true) {
  std::vector<int> trained;
  for (size_t i = 0; i < ex.labels.size(); ++i)
    if (ex.labels[i] != kIgnoreIndex) trained.push_back(ex.labels[i]);
  ASSERT_FALSE(trained.empty());
  EXPECT_EQ(trained.back(), tok().eos_id());
  trained.pop_back();
  EXPECT_EQ(tok().decode(trained), response);
  if (bos_first) {
    EXPECT_EQ(ex.input_ids.front(), tok().bos_id());
  }
  EXPECT_EQ(ex.labels.front(), kIgnoreIndex);
}

TEST(Examples, PromptCompletionMasksThePrompt) {
  TempDir dir;
  auto ex = read_lines(dir, R"({"prompt": "What is 2 plus 3?", "completion": "2 plus 3 is 5."})" "\n", {});
  ASSERT_EQ(ex.size(), 1u);
  expect_response(ex[0], "2 plus 3 is 5.");
  EXPECT_EQ(ex[0].line, 1);
  EXPECT_EQ(ex[0].file, dir / "d.jsonl");
  // Llama-2 template: the prompt part decodes to "[INST] ... [/INST]".
  std::vector<int> prompt;
  for (size_t i = 1; i < ex[0].labels.size() && ex[0].labels[i] == kIgnoreIndex; ++i) prompt.push_back(ex[0].input_ids[i]);
  EXPECT_EQ(tok().decode(prompt), "[INST] What is 2 plus 3? [/INST]");
}

TEST(Examples, ChatTrainsEveryAssistantTurnAndUsesTheSystemPrompt) {
  TempDir dir;
  const std::string line =
      R"({"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"},)"
      R"( {"role": "assistant", "content": "Hello."}, {"role": "user", "content": "Bye"}, {"role": "assistant", "content": "Goodbye."}]})";
  auto ex = read_lines(dir, line + "\n", {});
  ASSERT_EQ(ex.size(), 1u);
  int eos = 0, bos = 0;
  for (size_t i = 0; i < ex[0].input_ids.size(); ++i) {
    if (ex[0].input_ids[i] == tok().eos_id()) {
      ++eos;
      EXPECT_NE(ex[0].labels[i], kIgnoreIndex);  // each closing EOS is trained
    }
    bos += ex[0].input_ids[i] == tok().bos_id();
  }
  EXPECT_EQ(eos, 2);
  EXPECT_EQ(bos, 2);  // llama2 opens each [INST] with BOS
  EXPECT_NE(tok().decode(ex[0].input_ids).find("<<SYS>>"), std::string::npos);
}

TEST(Examples, TextTrainsEverythingAfterBos) {
  TempDir dir;
  auto ex = read_lines(dir, R"({"text": "The quiet river."})" "\n", {});
  expect_response(ex[0], "The quiet river.");
  EXPECT_EQ(std::count(ex[0].labels.begin(), ex[0].labels.end(), kIgnoreIndex), 1);
}

TEST(Examples, TemplatesAreConfigurable) {
  TempDir dir;
  for (const char* name : {"chatml", "plain"}) {
    DataOptions o;
    o.chat_template = name;
    auto ex = read_lines(dir, R"({"prompt": "Hi", "completion": "Hello."})" "\n", o);
    expect_response(ex[0], "Hello.", /*bos_first=*/o.chat_template != "chatml");  // chatml writes no BOS
  }
}

TEST(Examples, TruncationIsExplicitAndCounted) {
  TempDir dir;
  const std::string long_line = R"({"prompt": "Hi", "completion": ")" + std::string(400, 'a') + "\"}\n";
  const std::string prompt_only = R"({"prompt": ")" + std::string(400, 'b') + R"(", "completion": "x"})" "\n";
  DataOptions o;
  o.max_seq_len = 32;
  DataStats stats;
  auto ex = read_lines(dir, long_line + prompt_only + R"({"prompt": "Hi", "completion": "Yo"})" "\n", o, &stats);
  EXPECT_EQ(stats.truncated, 1);
  EXPECT_EQ(stats.dropped_overlong, 1);  // nothing trainable left after cutting the prompt
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_TRUE(ex[0].truncated);
  EXPECT_EQ(ex[0].input_ids.size(), 32u);
  o.truncation = Truncation::Drop;
  DataStats dropped;
  EXPECT_EQ(read_lines(dir, long_line + R"({"prompt": "Hi", "completion": "Yo"})" "\n", o, &dropped).size(), 1u);
  EXPECT_EQ(dropped.dropped_overlong, 1);
}

struct BadData {
  const char* name;
  const char* lines;
  int line;
  const char* fragment;
};

const BadData kBadData[] = {
    {"not_json", "{\"prompt\": \"a\", \"completion\": \"b\"}\n{oops\n", 2, "not valid JSON"},
    {"not_object", "[1, 2]\n", 1, "expected a JSON object, got array"},
    {"unknown_keys", "{\"question\": \"a\", \"answer\": \"b\"}\n", 1, "cannot tell the format"},
    {"missing_completion", "{\"prompt\": \"a\"}\n", 1, "missing \"completion\""},
    {"completion_not_string", "{\"prompt\": \"a\", \"completion\": 5}\n", 1, "\"completion\" must be a string, got number"},
    {"empty_completion", "{\"prompt\": \"a\", \"completion\": \"\"}\n", 1, "\"completion\" is empty"},
    {"messages_not_list", "{\"messages\": \"hi\"}\n", 1, "\"messages\" must be a non-empty list"},
    {"bad_role", "{\"messages\": [{\"role\": \"bot\", \"content\": \"x\"}]}\n", 1, "role \"bot\""},
    {"ends_with_user", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}\n", 1, "last message must be from the assistant"},
    {"not_alternating", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}, {\"role\": \"user\", \"content\": \"y\"}, {\"role\": \"assistant\", \"content\": \"z\"}]}\n", 1, "must alternate"},
    {"missing_content", "{\"messages\": [{\"role\": \"user\"}, {\"role\": \"assistant\", \"content\": \"z\"}]}\n", 1, "messages[0]: missing \"content\""},
    {"empty_text", "\n\n{\"text\": \"\"}\n", 3, "\"text\" is empty"},
    {"invalid_utf8", "{\"text\": \"caf\xe9\"}\n", 1, "not valid JSON"},
};

TEST(DataErrors, EveryMalformedFileNamesFileAndLine) {
  ASSERT_GE(std::size(kBadData), 10u);
  TempDir dir;
  for (const auto& c : kBadData) {
    SCOPED_TRACE(c.name);
    const auto where = fmt::format("{}:{}:", dir / "d.jsonl", c.line);
    expect_error([&] { read_lines(dir, c.lines, {}); }, ExitCode::bad_input, where);
    expect_error([&] { read_lines(dir, c.lines, {}); }, ExitCode::bad_input, c.fragment);
  }
  DataOptions chat;
  chat.format = "chat";
  expect_error([&] { read_lines(dir, "{\"prompt\": \"a\", \"completion\": \"b\"}\n", chat); }, ExitCode::bad_input,
               "missing \"messages\" (data.format is chat)");
  expect_error([&] { read_lines(dir, "\n\n", {}); }, ExitCode::bad_input, "no usable examples");
  expect_error([&] { DataStats s; read_examples({dir / "missing.jsonl"}, tok(), {}, s); }, ExitCode::bad_input, "missing.jsonl: no such file");
}

TEST(DataErrors, SkipPolicyCountsAndKeepsProvenance) {
  TempDir dir;
  DataOptions o;
  o.on_bad_line = OnBadLine::Skip;
  DataStats stats;
  auto ex = read_lines(dir, "{oops\n{\"prompt\": \"a\", \"completion\": \"b\"}\n[1]\n{\"text\": \"c\"}\n", o, &stats);
  ASSERT_EQ(ex.size(), 2u);
  EXPECT_EQ(stats.skipped_bad_lines, 2);
  EXPECT_EQ(ex[0].line, 2);
  EXPECT_EQ(ex[1].line, 4);
  ASSERT_EQ(stats.skipped.size(), 2u);
  EXPECT_NE(stats.skipped[1].find("d.jsonl:3:"), std::string::npos);
}

TokenizedData fixture_examples() {
  DataOptions o;
  o.max_seq_len = 64;
  return read_tokenized({fixture("train/train.jsonl")}, tok(), o, {}).data;
}

TEST(Batcher, EachEpochVisitsEveryExampleOnceInASeededOrder) {
  const auto examples = fixture_examples();
  Batcher a(examples, 4, /*seed=*/3, /*group_by_length=*/true, tok().pad_id());
  Batcher b(examples, 4, /*seed=*/3, /*group_by_length=*/true, tok().pad_id());
  Batcher c(examples, 4, /*seed=*/4, /*group_by_length=*/true, tok().pad_id());
  EXPECT_EQ(a.epoch_plan(0), b.epoch_plan(0));
  EXPECT_NE(a.epoch_plan(0), a.epoch_plan(1));
  EXPECT_NE(a.epoch_plan(0), c.epoch_plan(0));
  std::multiset<size_t> seen;
  for (const auto& batch : a.epoch_plan(1)) seen.insert(batch.begin(), batch.end());
  EXPECT_EQ(seen.size(), examples.size());
  EXPECT_EQ(std::set<size_t>(seen.begin(), seen.end()).size(), examples.size());
}

TEST(Batcher, LengthGroupingCutsPadding) {
  const auto examples = fixture_examples();
  auto padding = [&](bool group) {
    Batcher batcher(examples, 4, 3, group, tok().pad_id());
    int64_t pad = 0;
    for (const auto& idx : batcher.epoch_plan(0)) {
      int64_t longest = 0, total = 0;
      for (size_t i : idx) longest = std::max(longest, examples.length(i)), total += examples.length(i);
      pad += longest * static_cast<int64_t>(idx.size()) - total;
    }
    return pad;
  };
  EXPECT_LT(padding(true), padding(false) / 2);
}

TEST(Batcher, CursorContinuesAcrossEpochsAndCollatePadsRight) {
  const auto examples = fixture_examples();
  Batcher batcher(examples, 4, 3, true, tok().pad_id());
  BatchCursor cursor;
  for (int64_t i = 0; i < batcher.batches_per_epoch(); ++i) batcher.next(cursor);
  EXPECT_EQ(cursor.epoch, 0);
  const Batch b = batcher.next(cursor);
  EXPECT_EQ(b.epoch, 1);
  EXPECT_EQ(cursor.epoch, 1);
  EXPECT_EQ(cursor.index, 1);
  EXPECT_EQ(b.examples, batcher.epoch_plan(1)[0]);
  for (int64_t r = 0; r < b.input_ids.size(0); ++r) {
    const auto n = examples.length(b.examples[static_cast<size_t>(r)]);
    if (n < b.input_ids.size(1)) {
      EXPECT_TRUE((b.labels[r].slice(0, n) == kIgnoreIndex).all().item<bool>());
      EXPECT_TRUE((b.input_ids[r].slice(0, n) == tok().pad_id()).all().item<bool>());
    }
  }
}

}  // namespace
}  // namespace st
