// data/hf_text.cpp — UTF-8 helpers, the byte-level table, and the PCRE2 regex wrapper.
#define PCRE2_CODE_UNIT_WIDTH 8
#include "data/hf_text.h"

#include <pcre2.h>

#include <array>

#include "common/check.h"

namespace st::hf {

size_t utf8_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

char32_t next_code_point(const std::string& text, size_t& i) {
  const auto lead = static_cast<unsigned char>(text[i]);
  const size_t n = utf8_length(lead);
  if (n == 1 || i + n > text.size()) {
    ++i;
    return lead < 0x80 ? lead : 0xFFFD;
  }
  char32_t c = lead & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
  i += n;
  return c;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

namespace {
// Printable bytes stand for themselves; the other 68, in increasing order, take U+0100 onwards.
std::array<char32_t, 256> byte_code_points() {
  std::array<char32_t, 256> table{};
  char32_t next = 0x100;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    table[static_cast<size_t>(b)] = printable ? static_cast<char32_t>(b) : next++;
  }
  return table;
}
}  // namespace

const std::string& byte_char(unsigned char b) {
  static const std::array<std::string, 256> chars = [] {
    std::array<std::string, 256> out;
    const auto points = byte_code_points();
    for (size_t b = 0; b < 256; ++b) append_utf8(out[b], points[b]);
    return out;
  }();
  return chars[b];
}

int byte_of_char(char32_t c) {
  static const auto points = byte_code_points();
  if (c < 0x21 || c > 0x143) return -1;
  for (int b = 0; b < 256; ++b)
    if (points[static_cast<size_t>(b)] == c) return b;
  return -1;
}

namespace {
// Unicode White_Space, the set Oniguruma's \s is (25 code points).
constexpr const char* kWhiteSpaceClass = "\\t-\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";

// \s -> the White_Space class, \S -> its complement; inside a bracket class only \s is expanded.
std::string rewrite_space_classes(const std::string& pattern) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char e = pattern[++i];
      if (e == 's') out += in_class ? std::string(kWhiteSpaceClass) : fmt::format("[{}]", kWhiteSpaceClass);
      else if (e == 'S' && !in_class) out += fmt::format("[^{}]", kWhiteSpaceClass);
      else if (e == 'S') fail_input("regex '{}': \\S inside a character class is not supported", pattern);
      else out += std::string{c, e};
      continue;
    }
    if (c == '[' && !in_class) in_class = true;
    else if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}
}  // namespace

struct Regex::Impl {
  pcre2_code* code = nullptr;
  ~Impl() {
    if (code) pcre2_code_free(code);
  }
};

Regex::Regex(const std::string& pattern) : impl_(std::make_unique<Impl>()) {
  const std::string rewritten = rewrite_space_classes(pattern);
  int error = 0;
  PCRE2_SIZE offset = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rewritten.data()), rewritten.size(), PCRE2_UTF | PCRE2_UCP,
                              &error, &offset, nullptr);
  if (impl_->code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    fail_input("regex '{}' does not compile at offset {}: {}", pattern, offset, reinterpret_cast<const char*>(message));
  }
  pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter where JIT is absent
}

Regex::~Regex() = default;

std::vector<std::pair<size_t, size_t>> Regex::find_all(const std::string& text) const {
  std::vector<std::pair<size_t, size_t>> out;
  pcre2_match_data* data = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
  size_t start = 0;
  while (start <= text.size()) {
    // The first call checks the text is valid UTF-8 (an invalid one matches nothing); later calls skip the
    // check, which would otherwise rescan the whole text at every match.
    const int rc = pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), start,
                               start == 0 ? 0 : PCRE2_NO_UTF_CHECK, data, nullptr);
    if (rc < 0) break;
    const PCRE2_SIZE* v = pcre2_get_ovector_pointer(data);
    if (v[1] == v[0]) {  // an empty match: step over one character
      start = v[0] + (v[0] < text.size() ? utf8_length(static_cast<unsigned char>(text[v[0]])) : 1);
      continue;
    }
    out.emplace_back(v[0], v[1]);
    start = v[1];
  }
  pcre2_match_data_free(data);
  return out;
}

std::string escape_regex(const std::string& literal) {
  std::string out;
  for (char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}-/#").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

}  // namespace st::hf
