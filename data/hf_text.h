// data/hf_text.h — the text primitives of Hugging Face tokenizer.json pipelines: UTF-8 stepping, GPT-2's
// byte-to-character table, and regexes with the `tokenizers` crate's semantics on PCRE2 (Unicode
// properties, lookahead, JIT), where std::regex has neither.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace st::hf {

// The length in bytes of the UTF-8 sequence starting with `lead` (1 for a stray continuation byte).
size_t utf8_length(unsigned char lead);
// The code point starting at text[i] (U+FFFD for a broken sequence); `i` advances past it.
char32_t next_code_point(const std::string& text, size_t& i);
void append_utf8(std::string& out, char32_t c);

// GPT-2's bytes_to_unicode: every byte as a printable character (space is "Ġ" U+0120, "\n" is "Ċ").
const std::string& byte_char(unsigned char b);
// The byte a byte-level character stands for, or -1 when `c` is not one of the 256.
int byte_of_char(char32_t c);

// A compiled regex. The pattern is rewritten so that \s and \S mean exactly Unicode White_Space, as in
// Oniguruma (which the `tokenizers` crate uses); PCRE2 alone also counts U+180E as space.
class Regex {
 public:
  explicit Regex(const std::string& pattern);  // exit 2 with PCRE2's message when it does not compile
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Non-overlapping matches, leftmost first, as [begin, end) byte ranges; an empty match is skipped.
  std::vector<std::pair<size_t, size_t>> find_all(const std::string& text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `literal` with every regex metacharacter escaped (String patterns are matched literally).
std::string escape_regex(const std::string& literal);

}  // namespace st::hf
