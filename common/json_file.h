// common/json_file.h — JSON text and files parsed with errors a person can act on: exit 2 naming the
// file, line and column, never a parser exception.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace st {

nlohmann::json parse_json(const std::string& text, const std::string& label, bool allow_comments = false);
nlohmann::json read_json_file(const std::string& path, bool allow_comments = false);

}  // namespace st
