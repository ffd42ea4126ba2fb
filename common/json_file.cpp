// common/json_file.cpp — bounded, strict parsing with file:line:column messages.
#include "common/json_file.h"

#include <set>
#include <vector>

#include "common/check.h"
#include "common/files.h"

namespace st {
using json = nlohmann::json;

namespace {

// A limit broken while parsing; carries no position (the callback does not see one), only what and where.
struct JsonLimitError {
  std::string message;
};

// The parser callback that enforces the bounds: nesting depth and one value per key in each object.
class StrictJson {
 public:
  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    if (depth >= kMaxJsonDepth) throw JsonLimitError{fmt::format("nested deeper than {} levels", kMaxJsonDepth)};
    switch (event) {
      case json::parse_event_t::object_start: keys_.emplace_back(); break;
      case json::parse_event_t::object_end: keys_.pop_back(); break;
      case json::parse_event_t::key:
        if (!keys_.back().insert(parsed.get<std::string>()).second)
          throw JsonLimitError{fmt::format("key {} appears twice in one object (only one value can count)",
                                           json_excerpt(parsed, 60))};
        break;
      default: break;
    }
    return true;
  }

 private:
  std::vector<std::set<std::string>> keys_;  // one set per open object
};

json parse_strict(const std::string& text, bool allow_comments) {
  StrictJson strict;
  return json::parse(text, std::ref(strict), /*allow_exceptions=*/true, allow_comments);
}

// "line:column" of a byte offset, as a person finds it in an editor.
std::string position_of(const std::string& text, size_t byte) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') ++line, col = 1;
    else ++col;
  }
  return fmt::format("{}:{}", line, col);
}

// nlohmann's message without its "[json.exception.parse_error.101] " prefix.
std::string library_message(const json::exception& e) {
  std::string what = e.what();
  const auto pos = what.find("] ");
  return pos == std::string::npos ? what : what.substr(pos + 2);
}

}  // namespace

json parse_json(const std::string& text, const std::string& label, bool allow_comments) {
  try {
    return parse_strict(text, allow_comments);
  } catch (const json::parse_error& e) {
    fail_input("{}:{}: not valid JSON: {}", label, position_of(text, e.byte), library_message(e));
  } catch (const json::exception& e) {  // e.g. a number too large for a double
    fail_input("{}: not valid JSON: {}", label, library_message(e));
  } catch (const JsonLimitError& e) {
    fail_input("{}: not accepted as JSON: {}", label, e.message);
  }
}

json read_json_file(const std::string& path, bool allow_comments) {
  return parse_json(read_text_file(path), path, allow_comments);
}

std::optional<json> try_parse_json(const std::string& text, std::string& error) {
  error.clear();
  try {
    return parse_strict(text, /*allow_comments=*/false);
  } catch (const json::exception& e) {
    error = library_message(e);
  } catch (const JsonLimitError& e) {
    error = e.message;
  }
  return std::nullopt;
}

void read_jsonl(const std::string& path, const std::function<void(const json&, int64_t)>& visit) {
  std::ifstream in = open_input_file(path);
  std::string line, error;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto j = try_parse_json(line, error);
    ST_CHECK_INPUT(j.has_value(), "{}:{}: not valid JSON: {}", path, n, error);
    ST_CHECK_INPUT(j->is_object(), "{}:{}: not a JSON object", path, n);
    visit(*j, n);
  }
}

std::string text_excerpt(const std::string& text, size_t max_chars) {
  if (text.size() <= max_chars) return text;
  size_t cut = max_chars;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 sequence
  return text.substr(0, cut) + "…";
}

std::string json_excerpt(const json& value, size_t max_chars) {
  return text_excerpt(value.dump(/*indent=*/-1, /*indent_char=*/' ', /*ensure_ascii=*/false, json::error_handler_t::replace),
                      max_chars);
}

}  // namespace st
