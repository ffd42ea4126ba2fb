// tests/data/tokenizer_folder_test.cpp — the tokenizer format registry: opening a folder's tokenizer by
// what it holds, refusing a folder without one, listing the files to copy, and the vocabulary identity.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/files.h"
#include "common/sha256.h"
#include "data/tokenizer.h"
#include "models/llama_config.h"
#include "trainer/model_tokenizer.h"
#include "tests/test_util.h"

namespace st {
namespace {
namespace fs = std::filesystem;
using test::expect_error;
using test::fixture;

std::vector<std::string> names(const std::vector<NamedFile>& files) {
  std::vector<std::string> out;
  for (const auto& f : files) out.push_back(f.name);
  return out;
}

TEST(TokenizerFolder, OpensTheSentencepieceFixtureFolderByWhatItHolds) {
  const auto tok = open_tokenizer(fixture("tokenizer"));
  ASSERT_NE(tok, nullptr);
  EXPECT_STREQ(tok->format(), "sentencepiece");
  EXPECT_EQ(tok->path(), fixture("tokenizer") + "/tokenizer.model");
  EXPECT_EQ(tok->vocab_size(), 256);
  const auto ids = tok->encode("hello there", /*add_bos=*/true);
  EXPECT_EQ(ids.front(), tok->bos_id());
  EXPECT_EQ(tok->decode(ids), "hello there");
  // A loose tokenizer file (what classifier.tokenizer names) opens the same vocabulary.
  EXPECT_EQ(open_tokenizer(fixture("tokenizer/tokenizer.model"))->encode("hello there"), tok->encode("hello there"));
}

TEST(TokenizerFolder, AFolderWithoutATokenizerIsRefusedNamingFolderAndFiles) {
  test::TempDir dir;
  write_text_file_atomic(dir / "config.json", "{}");
  expect_error([&] { open_tokenizer(dir.str()); }, ExitCode::bad_input, dir.str() + ": no tokenizer in this folder");
  expect_error([&] { open_tokenizer(dir.str()); }, ExitCode::bad_input, "looked for tokenizer.model");
  expect_error([&] { vocabulary_sha256(dir.str()); }, ExitCode::bad_input, "looked for tokenizer.model");
  expect_error([&] { open_tokenizer(dir / "missing"); }, ExitCode::bad_input, "no such tokenizer folder or file");
  expect_error([&] { open_tokenizer(dir / "config.json"); }, ExitCode::bad_input, "not a tokenizer file");
  EXPECT_EQ(find_tokenizer(dir.str()).format, nullptr);
  EXPECT_TRUE(tokenizer_files(dir.str()).empty());
}

TEST(TokenizerFolder, ABrokenTokenizerFileIsRefusedByItsFormat) {
  test::TempDir dir;
  write_text_file_atomic(dir / "tokenizer.model", "not a model");
  expect_error([&] { open_tokenizer(dir.str()); }, ExitCode::bad_input, "not a sentencepiece model");
}

TEST(TokenizerFolder, TokenizerFilesListsOnlyTheTokenizerFilesThatExist) {
  test::TempDir dir;
  fs::copy_file(fixture("tokenizer/tokenizer.model"), dir / "tokenizer.model");
  write_text_file_atomic(dir / "config.json", "{}");
  write_text_file_atomic(dir / "model.safetensors", "x");
  EXPECT_EQ(names(tokenizer_files(dir.str())), std::vector<std::string>{"tokenizer.model"});
  write_text_file_atomic(dir / "tokenizer_config.json", "{}");
  write_text_file_atomic(dir / "special_tokens_map.json", "{}");
  write_text_file_atomic(dir / "tokenizer.json", "{}");
  const auto files = tokenizer_files(dir.str());
  EXPECT_EQ(names(files), (std::vector<std::string>{"tokenizer.model", "tokenizer.json", "tokenizer_config.json",
                                                    "special_tokens_map.json"}));
  for (const auto& f : files) EXPECT_EQ(f.source, dir / f.name);
  // A loose file is copied under its format's name, whatever it is called.
  fs::copy_file(fixture("tokenizer/tokenizer.model"), dir / "spm.model");
  const auto loose = tokenizer_files(dir / "spm.model");
  ASSERT_EQ(loose.size(), 1u);
  EXPECT_EQ(loose[0].source, dir / "spm.model");
  EXPECT_EQ(loose[0].name, "tokenizer.model");
}

TEST(TokenizerFolder, VocabularyIdentityFollowsTheVocabularyFile) {
  test::TempDir dir;
  fs::copy_file(fixture("tokenizer/tokenizer.model"), dir / "tokenizer.model");
  const auto before = vocabulary_sha256(dir.str());
  // The same value classifier folders have always recorded as tokenizer_sha256: the hash of tokenizer.model.
  EXPECT_EQ(before, sha256_file(fixture("tokenizer/tokenizer.model")));
  EXPECT_EQ(vocabulary_sha256(dir / "tokenizer.model"), before);
  // A chat template or special-token map does not change which id is which piece.
  write_text_file_atomic(dir / "tokenizer_config.json", R"({"chat_template": "x"})");
  EXPECT_EQ(vocabulary_sha256(dir.str()), before);
  // A changed vocabulary file does (one byte more is enough: the identity is of the bytes).
  write_text_file_atomic(dir / "tokenizer.model", read_text_file(fixture("tokenizer/tokenizer.model")) + "\n");
  EXPECT_NE(vocabulary_sha256(dir.str()), before);
}

// A tokenizer that disagrees with config.json's vocab_size, bos_token_id or eos_token_id is exit 2 naming
// config.json and the field; a config naming no BOS, or a tokenizer without one, is not compared.
TEST(TokenizerFolder, TokenizerMustAgreeWithConfigJson) {
  const std::string dir = fixture("golden/gqa_default_rope");
  const auto tok = open_tokenizer(dir);
  const auto good = LlamaConfig::from_file(dir + "/config.json");
  check_tokenizer_matches_model(*tok, good, "config.json");
  auto c = good;
  c.vocab_size = tok->vocab_size() - 1;
  test::expect_error([&] { check_tokenizer_matches_model(*tok, c, "config.json"); }, ExitCode::bad_input, "config.json: vocab_size is");
  c = good;
  c.bos_token_id = tok->bos_id() + 5;
  test::expect_error([&] { check_tokenizer_matches_model(*tok, c, "config.json"); }, ExitCode::bad_input, "config.json: bos_token_id is");
  c.bos_token_id.reset();
  check_tokenizer_matches_model(*tok, c, "config.json");
  c.eos_token_ids = {tok->eos_id() + 1, tok->eos_id() + 2};
  test::expect_error([&] { check_tokenizer_matches_model(*tok, c, "config.json"); }, ExitCode::bad_input, "config.json: eos_token_id is");
  c.eos_token_ids.push_back(tok->eos_id());  // one of several EOS ids (Llama 3 Instruct lists three)
  check_tokenizer_matches_model(*tok, c, "config.json");
}

}  // namespace
}  // namespace st
