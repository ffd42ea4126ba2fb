// common/text.h — small string helpers shared by the data readers and the evaluation rules.
#pragma once

#include <string>

namespace st {

// `text` without leading and trailing ASCII whitespace (space, tab, CR, LF).
inline std::string trimmed(const std::string& text) {
  const size_t first = text.find_first_not_of(" \t\n\r");
  if (first == std::string::npos) return "";
  return text.substr(first, text.find_last_not_of(" \t\n\r") - first + 1);
}

}  // namespace st
