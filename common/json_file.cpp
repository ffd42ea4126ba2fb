// common/json_file.cpp — parse errors turned into file:line:column messages.
#include "common/json_file.h"

#include <fstream>

#include "common/check.h"
#include "common/files.h"

namespace st {

nlohmann::json parse_json(const std::string& text, const std::string& label, bool allow_comments) {
  try {
    return nlohmann::json::parse(text, /*cb=*/nullptr, /*allow_exceptions=*/true, allow_comments);
  } catch (const nlohmann::json::parse_error& e) {
    size_t line = 1, col = 1;  // the byte offset as a person finds it
    for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') ++line, col = 1;
      else ++col;
    }
    std::string what = e.what();
    const auto pos = what.find("] ");
    fail_input("{}:{}:{}: not valid JSON: {}", label, line, col, pos == std::string::npos ? what : what.substr(pos + 2));
  }
}

nlohmann::json read_json_file(const std::string& path, bool allow_comments) {
  return parse_json(read_text_file(path), path, allow_comments);
}

void read_jsonl(const std::string& path, const std::function<void(const nlohmann::json&, int64_t)>& visit) {
  std::ifstream in(path);
  ST_CHECK_INPUT(in.good(), "{}: cannot open", path);
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ST_CHECK_INPUT(!j.is_discarded() && j.is_object(), "{}:{}: not a JSON object", path, n);
    visit(j, n);
  }
}

}  // namespace st
