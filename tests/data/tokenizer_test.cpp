// tests/data/tokenizer_test.cpp — the sentencepiece wrapper against the Python sentencepiece encodings
// in tests/fixtures/tokenizer, and the stated BOS/EOS/pad rules.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "common/files.h"
#include "data/sentencepiece_tokenizer.h"
#include "tests/test_util.h"

namespace st {
namespace {
using test::expect_error;
using test::fixture;

TEST(Tokenizer, MatchesPythonSentencepiece) {
  SentencePieceTokenizer tok(fixture("tokenizer/tokenizer.model"));
  const auto cases = nlohmann::json::parse(read_text_file(fixture("tokenizer/tokenizer_cases.json")));
  EXPECT_EQ(tok.vocab_size(), cases["vocab_size"].get<int>());
  EXPECT_EQ(tok.bos_id(), cases["bos_id"].get<int>());
  EXPECT_EQ(tok.eos_id(), cases["eos_id"].get<int>());
  EXPECT_EQ(tok.unk_id(), cases["unk_id"].get<int>());
  for (const auto& c : cases["cases"]) {
    const auto text = c["text"].get<std::string>();
    EXPECT_EQ(tok.encode(text), c["ids"].get<std::vector<int>>()) << text;
    EXPECT_EQ(tok.decode(c["ids"].get<std::vector<int>>()), c["decoded"].get<std::string>()) << text;
  }
}

TEST(Tokenizer, SpecialTokensOnlyWhenAsked) {
  SentencePieceTokenizer tok(fixture("tokenizer/tokenizer.model"));
  const auto plain = tok.encode("hello there");
  const auto framed = tok.encode("hello there", /*add_bos=*/true, /*add_eos=*/true);
  ASSERT_EQ(framed.size(), plain.size() + 2);
  EXPECT_EQ(framed.front(), tok.bos_id());
  EXPECT_EQ(framed.back(), tok.eos_id());
  EXPECT_TRUE(std::equal(plain.begin(), plain.end(), framed.begin() + 1));
  // "<s>" in data is text, never the BOS token.
  const auto literal = tok.encode("<s> </s>");
  EXPECT_EQ(std::count(literal.begin(), literal.end(), tok.bos_id()), 0);
  EXPECT_EQ(std::count(literal.begin(), literal.end(), tok.eos_id()), 0);
  EXPECT_EQ(tok.decode(framed), tok.decode(plain));  // specials dropped on decode
}

TEST(Tokenizer, PadFallsBackToEosWhenTheModelHasNoPadPiece) {
  SentencePieceTokenizer tok(fixture("tokenizer/tokenizer.model"));  // trained with pad_id=-1, like Llama's
  EXPECT_EQ(tok.pad_id(), tok.eos_id());
}

TEST(Tokenizer, BadFilesAreInputErrors) {
  expect_error([] { SentencePieceTokenizer("/nonexistent/tokenizer.model"); }, ExitCode::bad_input, "no such tokenizer file");
  expect_error([] { SentencePieceTokenizer(fixture("golden/gqa_default_rope/config.json")); }, ExitCode::bad_input,
               "not a sentencepiece model");
}

}  // namespace
}  // namespace st
