// common/json_file.h — JSON text and files parsed with errors a person can act on: exit 2 naming the
// file, line and column, never a parser exception.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace st {

nlohmann::json parse_json(const std::string& text, const std::string& label, bool allow_comments = false);
nlohmann::json read_json_file(const std::string& path, bool allow_comments = false);

// Calls visit(object, line) for every non-blank line of a JSONL file; a line that is not a JSON object
// is exit 2 naming file:line. Field checks are the caller's (it knows the file and line to name).
void read_jsonl(const std::string& path, const std::function<void(const nlohmann::json&, int64_t)>& visit);

}  // namespace st
