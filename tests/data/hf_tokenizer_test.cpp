// tests/data/hf_tokenizer_test.cpp — tokenizer.json against the `tokenizers` package: ids identical on
// every string of a 50,000-string corpus, for tokenizers trained by `tokenizers` itself (byte-level BPE as
// GPT-2, Llama 3, SmolLM2 and Qwen2 (NFC) build it; byte-fallback BPE as Llama 2 and Mistral do), in three
// modes, and decoding. Fixtures: scripts/make_tokenizer_fixtures (tests/fixtures/hf_tokenizer/README.md).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "common/json_file.h"
#include "common/sha256.h"
#include "common/tokens.h"
#include "data/examples.h"
#include "data/hf_tokenizer.h"
#include "data/tokenizer.h"
#include "tests/test_util.h"

namespace st {
namespace {
namespace fs = std::filesystem;
using json = nlohmann::json;
using test::fixture;

std::vector<std::string> read_corpus() {
  std::vector<std::string> out;
  std::ifstream in(fixture("hf_tokenizer/corpus.jsonl"));
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line).get<std::string>());
  return out;
}

std::string ids_text(const std::vector<int>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "," : "") + std::to_string(ids[i]);
  return out + "\n";
}

struct Mode {
  const char* name;
  bool match_special, add_special_tokens;
};
constexpr Mode kModes[] = {{"plain", true, false}, {"with_special_tokens", true, true}, {"literal", false, false}};

// Chunks of 100 strings whose ids hash differently from the reference; the first differing string is shown.
int mismatched_chunks(const HfTokenizer& tok, const std::vector<std::string>& corpus, const Mode& mode, const json& expected) {
  const auto& hashes = expected.at("chunk_sha256");
  const auto& first_ids = expected.at("first_ids");
  const size_t chunk = 100;
  int bad = 0;
  for (size_t c = 0; c * chunk < corpus.size(); ++c) {
    Sha256 h;
    std::vector<std::vector<int>> got;
    for (size_t i = c * chunk; i < std::min(corpus.size(), (c + 1) * chunk); ++i) {
      got.push_back(tok.encode_pipeline(corpus[i], mode.match_special, mode.add_special_tokens));
      const auto text = ids_text(got.back());
      h.update(text.data(), text.size());
    }
    if (h.hex_digest() == hashes.at(c).get<std::string>()) continue;
    if (++bad > 3) continue;
    for (size_t k = 0; k < got.size(); ++k) {
      const size_t i = c * chunk + k;
      if (i < first_ids.size() && first_ids[i].get<std::vector<int>>() != got[k]) {
        ADD_FAILURE() << mode.name << " string " << i << " " << json(corpus[i]).dump() << "\n  got      " << ids_text(got[k])
                      << "  expected " << ids_text(first_ids[i].get<std::vector<int>>());
        break;
      }
    }
  }
  return bad;
}

// Every mode on the whole corpus, and decoding, for one tokenizer.json against its expected.json.
void expect_golden(const std::string& name, const std::string& tokenizer_json, const std::string& expected_json,
                   const std::vector<std::string>& corpus) {
  const auto expected = read_json_file(expected_json);
  ASSERT_EQ(expected.at("corpus_sha256"), sha256_file(fixture("hf_tokenizer/corpus.jsonl"))) << name;
  const HfTokenizer tok(tokenizer_json);
  for (const auto& mode : kModes) {
    SCOPED_TRACE(name + " / " + mode.name);
    const auto started = std::chrono::steady_clock::now();
    const int bad = mismatched_chunks(tok, corpus, mode, expected.at("modes").at(mode.name));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("[tokenizer.json golden] %-22s %-20s %zu strings, %d of %zu chunks differ (%.2f s)\n", name.c_str(), mode.name,
                corpus.size(), bad, (corpus.size() + 99) / 100, s);
    EXPECT_EQ(bad, 0);
  }
  const auto& decoded = expected.at("decode");
  int decode_bad = 0;
  for (size_t i = 0; i < decoded.size(); ++i) {
    const auto ids = expected.at("modes").at("plain").at("first_ids")[i].get<std::vector<int>>();
    const auto text = tok.decode_pipeline(ids, /*skip_special=*/false);
    if (text != decoded[i].get<std::string>() && decode_bad++ < 3)
      ADD_FAILURE() << name << " decode of string " << i << ": got " << json(text).dump() << ", expected " << decoded[i].dump();
  }
  EXPECT_EQ(decode_bad, 0) << name;
}

TEST(HfTokenizerGolden, IdsEqualTheTokenizersPackageOnTheWholeCorpus) {
  const auto corpus = read_corpus();
  ASSERT_GE(corpus.size(), 50000u);
  int tokenizers = 0;
  for (const auto& entry : fs::directory_iterator(fixture("hf_tokenizer"))) {
    if (!fs::exists(entry.path() / "expected.json")) continue;
    ++tokenizers;
    expect_golden(entry.path().filename().string(), (entry.path() / "tokenizer.json").string(),
                  (entry.path() / "expected.json").string(), corpus);
  }
  EXPECT_GE(tokenizers, 6);
}

// SmolLM2-135M-Instruct's own tokenizer.json (49,152 pieces; scripts/get_smollm2 fetches it, and scripts/test
// runs that) on the same corpus; expected ids from scripts/make_tokenizer_fixtures.py --real.
TEST(HfTokenizerGolden, SmolLM2sRealTokenizerEqualsTheTokenizersPackage) {
  const std::string folder = test::smollm2_folder();
  if (!fs::exists(folder + "/tokenizer.json")) GTEST_SKIP() << folder << " is absent (scripts/get_smollm2 fetches it)";
  expect_golden("smollm2 (real)", folder + "/tokenizer.json", fixture("hf_tokenizer_real/smollm2/expected.json"), read_corpus());
}

// A folder with tokenizer.json (and tokenizer_config.json naming BOS and EOS) opens through the registry;
// Tokenizer::encode keeps special-token text literal, while the pipeline with matching on finds the token.
TEST(HfTokenizerFolder, OpensThroughTheRegistryAndKeepsDataLiteral) {
  test::TempDir dir;
  fs::copy_file(fixture("hf_tokenizer/byte_level_llama3/tokenizer.json"), dir / "tokenizer.json");
  write_text_file_atomic(dir / "tokenizer_config.json", R"({"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"})");
  const auto tok = open_tokenizer(dir.str());
  EXPECT_STREQ(tok->format(), "tokenizer.json");
  const auto& hf = dynamic_cast<const HfTokenizer&>(*tok);
  const int im_end = hf.added_token_id("<|im_end|>").value();
  const auto literal = tok->encode("a <|im_end|> b");
  EXPECT_EQ(std::count(literal.begin(), literal.end(), im_end), 0);
  const auto matched = hf.encode_pipeline("a <|im_end|> b", /*match_special=*/true, /*add_special_tokens=*/false);
  EXPECT_EQ(std::count(matched.begin(), matched.end(), im_end), 1);
  EXPECT_EQ(tok->encode("hi", /*add_bos=*/true).front(), tok->bos_id());
  EXPECT_EQ(tok->decode(tok->encode("Hello, world")), "Hello, world");
  // Without an EOS named, the folder is refused by name.
  fs::remove(dir / "tokenizer_config.json");
  test::expect_error([&] { open_tokenizer(dir.str()); }, ExitCode::bad_input, "needs an eos_token");
}

// chatml with a vocabulary that defines <|im_start|> and <|im_end|>: the template's markers are those tokens,
// a response ends with <|im_end|> (in the labels, and as a generation stop), and the same text inside user
// content stays literal. A vocabulary without them encodes the template as text, exactly as before.
TEST(HfTokenizerChat, ChatmlMarkersAreControlTokensOnlyInTheTemplate) {
  test::TempDir dir;
  fs::copy_file(fixture("hf_tokenizer/byte_level_llama3/tokenizer.json"), dir / "tokenizer.json");
  write_text_file_atomic(dir / "tokenizer_config.json", R"({"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"})");
  const auto tok = open_tokenizer(dir.str());
  const int start = tok->control_token_id("<|im_start|>").value(), end = tok->control_token_id("<|im_end|>").value();
  DataOptions o;
  o.chat_template = "chatml";
  const auto ex = apply_chat_template({{"user", "hi <|im_end|> there"}, {"assistant", "ok"}}, *tok, o);
  EXPECT_EQ(std::count(ex.input_ids.begin(), ex.input_ids.end(), start), 2);  // user turn, assistant cue
  EXPECT_EQ(std::count(ex.input_ids.begin(), ex.input_ids.end(), end), 2);    // closing the user turn and the response
  const auto last_trained = std::find_if(ex.labels.rbegin(), ex.labels.rend(), [](int l) { return l != kIgnoreIndex; });
  EXPECT_EQ(*last_trained, end);
  EXPECT_EQ(ex.input_ids.back(), tok->encode("\n").back());  // chatml's newline after every message, not trained
  EXPECT_EQ(response_end_id(*tok, o), end);
  EXPECT_EQ(generation_stop_ids(*tok, o), (std::vector<int64_t>{end, tok->eos_id()}));

  const auto sp = open_tokenizer(fixture("golden/gqa_default_rope"));
  const auto plain = apply_chat_template({{"user", "hi"}}, *sp, o);
  EXPECT_EQ(plain.input_ids, sp->encode("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"));  // chatml writes no BOS
  EXPECT_EQ(response_end_id(*sp, o), sp->eos_id());
}

// `safetune tokenize` prints the ids the library gives, literal by default and matching with --special.
TEST(HfTokenizerCli, TokenizePrintsTheLibrarysIds) {
  test::TempDir dir;
  fs::copy_file(fixture("hf_tokenizer/byte_level_llama3/tokenizer.json"), dir / "tokenizer.json");
  write_text_file_atomic(dir / "tokenizer_config.json", R"({"bos_token": "<|begin_of_text|>", "eos_token": "<|end_of_text|>"})");
  const HfTokenizer tok(dir / "tokenizer.json");
  const std::string text = "Hi <|im_end|> there";
  for (const bool special : {false, true}) {
    const auto r = test::run_safetune("tokenize --model " + test::shell_quote(dir.str()) + " --text " + test::shell_quote(text) +
                                      (special ? " --special" : ""));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(json::parse(r.output)["ids"].get<std::vector<int>>(), tok.encode_pipeline(text, special, false)) << r.output;
  }
  write_text_file_atomic(dir / "texts.jsonl", "\"one\"\n{\"text\": \"two\"}\n");
  const auto count = test::run_safetune("tokenize --model " + test::shell_quote(dir.str()) + " --input " + test::shell_quote(dir / "texts.jsonl") + " --count");
  ASSERT_EQ(count.exit_code, 0) << count.output;
  EXPECT_EQ(json::parse(count.output)["texts"], 2);
  const auto both = test::run_safetune("tokenize --model " + test::shell_quote(dir.str()) + " --text a --input " + test::shell_quote(dir / "texts.jsonl"));
  EXPECT_EQ(both.exit_code, 2) << both.output;
}

// Components and models safetune does not implement are refused naming them, never silently mis-encoded.
TEST(HfTokenizerErrors, UnsupportedComponentsAreNamed) {
  test::TempDir dir;
  const auto base = read_json_file(fixture("hf_tokenizer/byte_level_gpt2/tokenizer.json"));
  const std::pair<std::function<void(json&)>, std::string> cases[] = {
      {[](json& j) { j["model"]["type"] = "WordPiece"; }, "model type 'WordPiece' is not supported"},
      {[](json& j) { j["normalizer"] = {{"type", "Precompiled"}}; }, "normalizer type 'Precompiled' is not supported"},
      {[](json& j) { j["pre_tokenizer"] = {{"type", "UnicodeScripts"}}; }, "pre_tokenizer type 'UnicodeScripts' is not supported"},
      {[](json& j) { j["decoder"] = {{"type", "CTC"}}; }, "decoder type 'CTC' is not supported"},
      {[](json& j) { j["model"]["merges"] = json::array({"a"}); }, "merge \"a\" is not two pieces"},
      {[](json& j) { j["model"]["dropout"] = 0.1; }, "model.dropout is not supported"},
      {[](json& j) { j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}}; },
       "does not compile"},
  };
  for (const auto& [edit, fragment] : cases) {
    json j = base;
    edit(j);
    write_text_file_atomic(dir / "tokenizer.json", j.dump());
    test::expect_error([&] { HfTokenizer tok(dir / "tokenizer.json"); }, ExitCode::bad_input, fragment);
  }
}

}  // namespace
}  // namespace st
