// data/examples.h — training data as tokenized examples: JSONL in the formats users already have
// ({"prompt","completion"}, chat {"messages"}, plain {"text"}), a chat template, loss masks that cover
// only response tokens (closing EOS included), explicit truncation, and (file, line) provenance.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "data/chat_format.h"
#include "data/tokenizer.h"

namespace st {

struct Example {
  std::vector<int> input_ids;  // template applied (BOS first where the template and tokenizer have one)
  std::vector<int> labels;     // input id where the loss applies, kIgnoreIndex elsewhere (aligned, unshifted)
  std::string file;
  int64_t line = 0;
  bool truncated = false;
};

enum class Truncation { Truncate, Drop };  // an overlong example: cut its end, or drop it
enum class OnBadLine { Error, Skip };      // a malformed line: stop with file:line, or skip and count it

struct DataOptions {
  // Record formats are names looked up in a table (examples.cpp); the two policies are enums.
  std::string format = "auto";    // auto | prompt_completion | chat | text
  // data.template: "auto" or a family (data/chat_format.h). `chat` is what it resolves to against the model
  // folder (resolve_chat_format); code without a folder names a family here and leaves `chat` unset.
  std::string chat_template = "llama2";
  ChatFormat chat;
  std::string system_prompt;
  int64_t max_seq_len = 512;
  Truncation truncation = Truncation::Truncate;
  OnBadLine on_bad_line = OnBadLine::Error;
};

struct DataStats {
  int64_t lines = 0;              // non-blank lines read
  int64_t examples = 0;
  int64_t skipped_bad_lines = 0;  // only with on_bad_line = skip
  int64_t truncated = 0;          // cut to max_seq_len and kept
  int64_t dropped_overlong = 0;   // too long and dropped (drop policy, or nothing trainable left)
  int64_t tokens = 0;
  int64_t loss_tokens = 0;
  std::map<std::string, int64_t> formats;   // format -> examples
  std::vector<std::string> skipped;         // "file:line: reason" for the first skipped lines
};

// One conversation turn: role is system, user or assistant.
struct Turn {
  std::string role, content;
};

// One JSONL line (not blank) as the readers keep it: an example (cut to max_seq_len under the truncate
// policy), dropped as too long, or bad with the reason (the caller prefixes file:line).
struct LineOutcome {
  enum Kind { Kept, Dropped, Bad } kind = Bad;
  Example example;     // Kept: file and line not set
  std::string format;  // the record format it was read as
  std::string error;   // Bad
};
LineOutcome tokenize_line(const std::string& line, const Tokenizer& tokenizer, const DataOptions& options);

// One JSONL record (prompt/completion, chat or text, as data.format says) as an example; a malformed record
// is exit 2 prefixed with `where` ("file:line").
Example example_from_json(const nlohmann::json& record, const Tokenizer& tokenizer, const DataOptions& options,
                          const std::string& where);

// Tokens of a conversation under the template; `labels` marks assistant content plus its closing token.
// The last turn may be a user turn (a prompt for generation): the result then ends with the assistant cue.
Example apply_chat_template(const std::vector<Turn>& turns, const Tokenizer& tokenizer, const DataOptions& options);

// The token that closes a response under the template: chatml's <|im_end|> where the vocabulary has it,
// otherwise EOS. Training labels end with it and generation stops at it.
int response_end_id(const Tokenizer& tokenizer, const DataOptions& options);
// What ends a generated response: EOS and, when it differs, the template's response end.
std::vector<int64_t> generation_stop_ids(const Tokenizer& tokenizer, const DataOptions& options);

}  // namespace st
