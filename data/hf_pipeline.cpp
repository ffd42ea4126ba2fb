// data/hf_pipeline.cpp — normalizers, pre-tokenizers and decoders of tokenizer.json, with the semantics of
// the `tokenizers` crate (normalizers/, pre_tokenizers/, decoders/ there).
#include "data/hf_pipeline.h"

#include <utf8proc.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cctype>
#include <cstdlib>
#include <functional>
#include <map>

#include "common/check.h"
#include "common/json_file.h"
#include "data/hf_text.h"

namespace st::hf {
using json = nlohmann::json;

bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
         c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

namespace {

// ---- reading component JSON ---------------------------------------------------------------------------

struct Spec {
  const json& j;
  const std::string& where;
  std::string type;

  const json& at(const char* key) const {
    ST_CHECK_INPUT(j.contains(key), "{}: {} is missing '{}'", where, type, key);
    return j[key];
  }
  std::string text(const char* key) const {
    ST_CHECK_INPUT(at(key).is_string(), "{}: {}.{} must be a string, got {}", where, type, key, json_excerpt(at(key)));
    return at(key).get<std::string>();
  }
  bool flag(const char* key, bool fallback) const {
    if (!j.contains(key) || j[key].is_null()) return fallback;
    ST_CHECK_INPUT(j[key].is_boolean(), "{}: {}.{} must be true or false, got {}", where, type, key, json_excerpt(j[key]));
    return j[key].get<bool>();
  }
  // {"String": s} (matched literally) or {"Regex": r}, as a compiled regex.
  std::unique_ptr<Regex> pattern(const char* key) const {
    const json& p = at(key);
    if (p.is_object() && p.contains("String") && p["String"].is_string()) return std::make_unique<Regex>(escape_regex(p["String"].get<std::string>()));
    if (p.is_object() && p.contains("Regex") && p["Regex"].is_string()) return std::make_unique<Regex>(p["Regex"].get<std::string>());
    fail_input("{}: {}.{} must be {{\"String\": ...}} or {{\"Regex\": ...}}, got {}", where, type, key, json_excerpt(p));
  }
  const json& list(const char* key) const {
    ST_CHECK_INPUT(at(key).is_array(), "{}: {}.{} must be a list", where, type, key);
    return at(key);
  }
};

template <typename Component>
using Factory = std::function<std::unique_ptr<Component>(const Spec&)>;

// The registry lookup shared by the three component kinds.
template <typename Component>
std::unique_ptr<Component> build(const json& spec, const std::string& where, const char* kind,
                                 const std::map<std::string, Factory<Component>>& factories) {
  if (spec.is_null()) return nullptr;
  ST_CHECK_INPUT(spec.is_object() && spec.contains("type") && spec["type"].is_string(), "{}: {} must be an object with a "
                 "\"type\", got {}", where, kind, json_excerpt(spec));
  const std::string type = spec["type"];
  const auto it = factories.find(type);
  if (it == factories.end()) {
    std::vector<std::string> names;
    for (const auto& [name, _] : factories) names.push_back(name);
    fail_input("{}: {} type '{}' is not supported (supported: {})", where, kind, type, fmt::join(names, ", "));
  }
  return it->second(Spec{spec, where, type});
}

// A "Sequence" component of any kind: its steps (the list under `key`), each built by `make`, in a `Sequence`.
template <typename Sequence, typename Make>
auto sequence_of(const Spec& s, const char* key, Make make) {
  std::vector<decltype(make(json(), s.where))> steps;
  for (const auto& step : s.list(key)) steps.push_back(make(step, s.where));
  return std::make_unique<Sequence>(std::move(steps));
}

// ---- normalizers ----------------------------------------------------------------------------------------

class NormalizerSequence final : public Normalizer {
 public:
  explicit NormalizerSequence(std::vector<std::unique_ptr<Normalizer>> steps) : steps_(std::move(steps)) {}
  std::string normalize(const std::string& text) const override {
    std::string out = text;
    for (const auto& s : steps_) out = s->normalize(out);
    return out;
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

class Prepend final : public Normalizer {
 public:
  explicit Prepend(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string normalize(const std::string& text) const override { return text.empty() ? text : prefix_ + text; }

 private:
  std::string prefix_;
};

// Every non-overlapping leftmost match replaced by `content`, literally.
std::string replace_all(const Regex& pattern, const std::string& content, const std::string& text) {
  std::string out;
  size_t last = 0;
  for (const auto& [begin, end] : pattern.find_all(text)) {
    out.append(text, last, begin - last);
    out += content;
    last = end;
  }
  return out.append(text, last, std::string::npos);
}

class Replace final : public Normalizer {
 public:
  Replace(std::unique_ptr<Regex> pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  std::string normalize(const std::string& text) const override { return replace_all(*pattern_, content_, text); }

 private:
  std::unique_ptr<Regex> pattern_;
  std::string content_;
};

// A Unicode normalization form, by utf8proc (its tables are Debian's release; only characters newer than
// them could normalize differently from `tokenizers`).
class UnicodeForm final : public Normalizer {
 public:
  explicit UnicodeForm(utf8proc_option_t options) : options_(options) {}
  std::string normalize(const std::string& text) const override {
    utf8proc_uint8_t* out = nullptr;
    const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()), static_cast<utf8proc_ssize_t>(text.size()),
                                &out, options_);
    ST_CHECK_INPUT(n >= 0, "text to normalize is not valid UTF-8: {}", utf8proc_errmsg(n));
    std::string result(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
    std::free(out);
    return result;
  }

 private:
  utf8proc_option_t options_;
};

const std::map<std::string, Factory<Normalizer>>& normalizers() {
  static const std::map<std::string, Factory<Normalizer>> table{
      {"Sequence", [](const Spec& s) { return sequence_of<NormalizerSequence>(s, "normalizers", make_normalizer); }},
      {"Prepend", [](const Spec& s) { return std::make_unique<Prepend>(s.text("prepend")); }},
      {"NFC", [](const Spec&) { return std::make_unique<UnicodeForm>(utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE)); }},
      {"NFD", [](const Spec&) { return std::make_unique<UnicodeForm>(utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE)); }},
      {"NFKC", [](const Spec&) {
         return std::make_unique<UnicodeForm>(utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT));
       }},
      {"NFKD", [](const Spec&) {
         return std::make_unique<UnicodeForm>(utf8proc_option_t(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT));
       }},
      {"Replace", [](const Spec& s) { return std::make_unique<Replace>(s.pattern("pattern"), s.text("content")); }},
  };
  return table;
}

// ---- splitting by pattern -------------------------------------------------------------------------------

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

Behavior behavior_of(const Spec& s) {
  static const std::map<std::string, Behavior> names{{"Removed", Behavior::Removed}, {"Isolated", Behavior::Isolated},
      {"MergedWithPrevious", Behavior::MergedWithPrevious}, {"MergedWithNext", Behavior::MergedWithNext},
      {"Contiguous", Behavior::Contiguous}};
  const auto name = s.text("behavior");
  const auto it = names.find(name);
  ST_CHECK_INPUT(it != names.end(), "{}: {}.behavior '{}' is not one of Removed, Isolated, MergedWithPrevious, "
                 "MergedWithNext, Contiguous", s.where, s.type, name);
  return it->second;
}

struct Piece {
  size_t begin, end;
  bool is_match;
};

// The text as alternating non-match and match pieces (empty ones left out), then grouped by `behavior`.
std::vector<Piece> split_pieces(const std::string& text, const std::vector<std::pair<size_t, size_t>>& matches,
                                Behavior behavior, bool invert) {
  std::vector<Piece> pieces;
  size_t last = 0;
  for (const auto& [b, e] : matches) {
    if (b > last) pieces.push_back({last, b, invert});
    pieces.push_back({b, e, !invert});
    last = e;
  }
  if (last < text.size()) pieces.push_back({last, text.size(), invert});
  std::vector<Piece> out;
  switch (behavior) {
    case Behavior::Isolated: return pieces;
    case Behavior::Removed:
      for (const auto& p : pieces)
        if (!p.is_match) out.push_back(p);
      return out;
    case Behavior::Contiguous:
      for (const auto& p : pieces)
        if (!out.empty() && out.back().is_match == p.is_match) out.back().end = p.end;
        else out.push_back(p);
      return out;
    case Behavior::MergedWithPrevious: {
      bool previous_match = false;
      for (const auto& p : pieces) {
        if (p.is_match && !previous_match && !out.empty()) out.back().end = p.end;
        else out.push_back(p);
        previous_match = p.is_match;
      }
      return out;
    }
    case Behavior::MergedWithNext: {
      bool previous_match = false;
      for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
        if (it->is_match && !previous_match && !out.empty()) out.back().begin = it->begin;
        else out.push_back(*it);
        previous_match = it->is_match;
      }
      return {out.rbegin(), out.rend()};
    }
  }
  return pieces;
}

// Replaces every text split by the pieces `cut` makes of it.
void resplit(std::vector<Split>& splits, const std::function<std::vector<Piece>(const std::string&)>& cut) {
  std::vector<Split> out;
  for (auto& s : splits) {
    if (s.token >= 0) {
      out.push_back(std::move(s));
      continue;
    }
    for (const auto& p : cut(s.text))
      if (p.end > p.begin) out.push_back({s.text.substr(p.begin, p.end - p.begin), s.at_start && p.begin == 0, -1});
  }
  splits = std::move(out);
}

// ---- pre-tokenizers -------------------------------------------------------------------------------------

class PreTokenizerSequence final : public PreTokenizer {
 public:
  explicit PreTokenizerSequence(std::vector<std::unique_ptr<PreTokenizer>> steps) : steps_(std::move(steps)) {}
  void split(std::vector<Split>& splits) const override {
    for (const auto& s : steps_) s->split(splits);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

class SplitPattern final : public PreTokenizer {
 public:
  SplitPattern(std::unique_ptr<Regex> pattern, Behavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void split(std::vector<Split>& splits) const override {
    resplit(splits, [this](const std::string& t) { return split_pieces(t, pattern_->find_all(t), behavior_, invert_); });
  }

 private:
  std::unique_ptr<Regex> pattern_;
  Behavior behavior_;
  bool invert_;
};

// GPT-2's pre-tokenization regex, which ByteLevel applies itself when use_regex is set.
constexpr const char* kGpt2Pattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

class ByteLevel final : public PreTokenizer {
 public:
  ByteLevel(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), regex_(use_regex ? std::make_unique<Regex>(kGpt2Pattern) : nullptr) {}
  void split(std::vector<Split>& splits) const override {
    if (add_prefix_space_)
      for (auto& s : splits)
        if (s.token < 0 && (s.text.empty() || s.text[0] != ' ')) s.text.insert(0, " ");
    if (regex_) resplit(splits, [this](const std::string& t) { return split_pieces(t, regex_->find_all(t), Behavior::Isolated, false); });
    for (auto& s : splits) {
      if (s.token >= 0) continue;
      std::string mapped;
      for (unsigned char b : s.text) mapped += byte_char(b);
      s.text = std::move(mapped);
    }
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

enum class PrependScheme { Always, First, Never };

class Metaspace final : public PreTokenizer {
 public:
  Metaspace(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split), regex_(escape_regex(replacement_)) {}
  void split(std::vector<Split>& splits) const override {
    for (auto& s : splits) {
      if (s.token >= 0) continue;
      std::string replaced;
      for (char c : s.text) replaced += c == ' ' ? replacement_ : std::string(1, c);
      const bool prepend = scheme_ == PrependScheme::Always || (scheme_ == PrependScheme::First && s.at_start);
      if (prepend && replaced.compare(0, replacement_.size(), replacement_) != 0) replaced.insert(0, replacement_);
      s.text = std::move(replaced);
    }
    if (split_)
      resplit(splits, [this](const std::string& t) { return split_pieces(t, regex_.find_all(t), Behavior::MergedWithNext, false); });
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
  Regex regex_;
};

PrependScheme prepend_scheme_of(const Spec& s) {
  if (!s.j.contains("prepend_scheme")) return s.flag("add_prefix_space", true) ? PrependScheme::Always : PrependScheme::Never;
  const auto name = s.text("prepend_scheme");
  if (name == "always") return PrependScheme::Always;
  if (name == "first") return PrependScheme::First;
  if (name == "never") return PrependScheme::Never;
  fail_input("{}: Metaspace.prepend_scheme '{}' is not one of always, first, never", s.where, name);
}

const std::map<std::string, Factory<PreTokenizer>>& pre_tokenizers() {
  static const std::map<std::string, Factory<PreTokenizer>> table{
      {"Sequence", [](const Spec& s) { return sequence_of<PreTokenizerSequence>(s, "pretokenizers", make_pre_tokenizer); }},
      {"Split",
       [](const Spec& s) { return std::make_unique<SplitPattern>(s.pattern("pattern"), behavior_of(s), s.flag("invert", false)); }},
      {"ByteLevel",
       [](const Spec& s) { return std::make_unique<ByteLevel>(s.flag("add_prefix_space", true), s.flag("use_regex", true)); }},
      {"Metaspace",
       [](const Spec& s) { return std::make_unique<Metaspace>(s.text("replacement"), prepend_scheme_of(s), s.flag("split", true)); }},
      {"Digits",
       [](const Spec& s) {
         // char::is_numeric is \p{N}; one piece per digit, or runs of them.
         const bool each = s.flag("individual_digits", false);
         return std::make_unique<SplitPattern>(std::make_unique<Regex>(R"(\p{N})"), each ? Behavior::Isolated : Behavior::Contiguous, false);
       }},
  };
  return table;
}

// ---- decoders -------------------------------------------------------------------------------------------

class DecoderSequence final : public Decoder {
 public:
  explicit DecoderSequence(std::vector<std::unique_ptr<Decoder>> steps) : steps_(std::move(steps)) {}
  void decode(std::vector<std::string>& tokens) const override {
    for (const auto& s : steps_) s->decode(tokens);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> steps_;
};

// Each token's byte-level characters back to bytes (a token with other characters, an added token, as its
// own bytes), all joined and read as UTF-8 with invalid bytes replaced.
class ByteLevelDecoder final : public Decoder {
 public:
  void decode(std::vector<std::string>& tokens) const override {
    std::string bytes;
    for (const auto& t : tokens) {
      std::string mapped;
      bool all = true;
      for (size_t i = 0; i < t.size() && all;) {
        const int b = byte_of_char(next_code_point(t, i));
        all = b >= 0;
        mapped += static_cast<char>(b);
      }
      bytes += all ? mapped : t;
    }
    tokens = {utf8_lossy(bytes)};
  }
};

// Runs of <0xHH> tokens become their bytes: one string when they are valid UTF-8, else one U+FFFD per byte.
class ByteFallbackDecoder final : public Decoder {
 public:
  void decode(std::vector<std::string>& tokens) const override {
    std::vector<std::string> out;
    std::string run;
    size_t run_tokens = 0;
    auto flush = [&] {
      if (run_tokens == 0) return;
      if (utf8_lossy(run) == run) out.push_back(run);
      else
        for (size_t i = 0; i < run_tokens; ++i) out.emplace_back("\xEF\xBF\xBD");
      run.clear();
      run_tokens = 0;
    };
    for (const auto& t : tokens) {
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && std::isxdigit(static_cast<unsigned char>(t[3])) &&
          std::isxdigit(static_cast<unsigned char>(t[4]))) {
        run += static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16));
        ++run_tokens;
        continue;
      }
      flush();
      out.push_back(t);
    }
    flush();
    tokens = std::move(out);
  }
};

class FuseDecoder final : public Decoder {
 public:
  void decode(std::vector<std::string>& tokens) const override { tokens = {fmt::format("{}", fmt::join(tokens, ""))}; }
};

class StripDecoder final : public Decoder {
 public:
  StripDecoder(std::string content, size_t start, size_t stop) : content_(std::move(content)), start_(start), stop_(stop) {}
  void decode(std::vector<std::string>& tokens) const override {
    for (auto& t : tokens) {
      for (size_t n = 0; n < start_ && t.compare(0, content_.size(), content_) == 0; ++n) t.erase(0, content_.size());
      for (size_t n = 0; n < stop_ && t.size() >= content_.size() && t.compare(t.size() - content_.size(), content_.size(), content_) == 0; ++n)
        t.erase(t.size() - content_.size());
    }
  }

 private:
  std::string content_;
  size_t start_, stop_;
};

class ReplaceDecoder final : public Decoder {
 public:
  ReplaceDecoder(std::unique_ptr<Regex> pattern, std::string content) : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void decode(std::vector<std::string>& tokens) const override {
    for (auto& t : tokens) t = replace_all(*pattern_, content_, t);
  }

 private:
  std::unique_ptr<Regex> pattern_;
  std::string content_;
};

// The replacement character back to a space; in the first token (when a prefix was prepended) it is dropped.
class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, PrependScheme scheme) : replacement_(std::move(replacement)), scheme_(scheme) {}
  void decode(std::vector<std::string>& tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      const std::string with = i == 0 && scheme_ != PrependScheme::Never ? "" : " ";
      std::string out;
      for (size_t pos = 0;;) {
        const size_t hit = tokens[i].find(replacement_, pos);
        out.append(tokens[i], pos, hit == std::string::npos ? std::string::npos : hit - pos);
        if (hit == std::string::npos) break;
        out += with;
        pos = hit + replacement_.size();
      }
      tokens[i] = std::move(out);
    }
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
};

size_t count_of(const Spec& s, const char* key) {
  const json& v = s.at(key);
  ST_CHECK_INPUT(v.is_number_unsigned() && v.get<double>() < 1e6, "{}: {}.{} must be a small count, got {}", s.where, s.type, key,
                 json_excerpt(v));
  return v.get<size_t>();
}

const std::map<std::string, Factory<Decoder>>& decoders() {
  static const std::map<std::string, Factory<Decoder>> table{
      {"Sequence", [](const Spec& s) { return sequence_of<DecoderSequence>(s, "decoders", make_decoder); }},
      {"ByteLevel", [](const Spec&) { return std::make_unique<ByteLevelDecoder>(); }},
      {"ByteFallback", [](const Spec&) { return std::make_unique<ByteFallbackDecoder>(); }},
      {"Fuse", [](const Spec&) { return std::make_unique<FuseDecoder>(); }},
      {"Strip", [](const Spec& s) { return std::make_unique<StripDecoder>(s.text("content"), count_of(s, "start"), count_of(s, "stop")); }},
      {"Replace", [](const Spec& s) { return std::make_unique<ReplaceDecoder>(s.pattern("pattern"), s.text("content")); }},
      {"Metaspace", [](const Spec& s) { return std::make_unique<MetaspaceDecoder>(s.text("replacement"), prepend_scheme_of(s)); }},
  };
  return table;
}

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const json& spec, const std::string& where) {
  return build<Normalizer>(spec, where, "normalizer", normalizers());
}
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& spec, const std::string& where) {
  return build<PreTokenizer>(spec, where, "pre_tokenizer", pre_tokenizers());
}
std::unique_ptr<Decoder> make_decoder(const json& spec, const std::string& where) {
  return build<Decoder>(spec, where, "decoder", decoders());
}

std::string utf8_lossy(const std::string& bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size();) {
    const auto lead = static_cast<unsigned char>(bytes[i]);
    size_t n = utf8_length(lead);
    if (lead < 0x80) {
      out += bytes[i++];
      continue;
    }
    // The second byte's valid range depends on the lead (no overlongs, surrogates or values past U+10FFFF).
    unsigned char lo = 0x80, hi = 0xBF;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
    if (n == 1 || lead < 0xC2 || lead > 0xF4) n = 0;  // a byte that can never start a sequence
    size_t good = n == 0 ? 0 : 1;
    for (; good < n && i + good < bytes.size(); ++good) {
      const auto c = static_cast<unsigned char>(bytes[i + good]);
      if (good == 1 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) break;
    }
    if (n > 0 && good == n) {
      out.append(bytes, i, n);
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      i += std::max<size_t>(good, 1);
    }
  }
  return out;
}

}  // namespace st::hf
