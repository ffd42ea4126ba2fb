// common/json_file.h — JSON text and files parsed with errors a person can act on: exit 2 naming the
// file, line and column, never a parser exception. Every parse is bounded (nesting depth) and strict
// (a key twice in one object is an error, not "the last one wins"), so a hostile or mistyped file cannot
// overflow the stack when printed or silently change meaning.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace st {

constexpr int kMaxJsonDepth = 64;  // configs nest 3 deep, model configs and tokenizer.json under 10

nlohmann::json parse_json(const std::string& text, const std::string& label, bool allow_comments = false);
nlohmann::json read_json_file(const std::string& path, bool allow_comments = false);

// One JSON value (a JSONL line, a --set value) under the same bounds; nullopt with `error` set when the
// text is not JSON or breaks a bound.
std::optional<nlohmann::json> try_parse_json(const std::string& text, std::string& error);

// Calls visit(object, line) for every non-blank line of a JSONL file; a line that is not a JSON object
// is exit 2 naming file:line. Field checks are the caller's (it knows the file and line to name).
void read_jsonl(const std::string& path, const std::function<void(const nlohmann::json&, int64_t)>& visit);

// A value as it may appear in a message: compact JSON cut to `max_chars` ("…" marks the cut).
std::string json_excerpt(const nlohmann::json& value, size_t max_chars = 80);
// Text cut the same way, never inside a UTF-8 sequence.
std::string text_excerpt(const std::string& text, size_t max_chars = 80);

}  // namespace st
