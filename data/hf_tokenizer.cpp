// data/hf_tokenizer.cpp — tokenizer.json assembled: added tokens (leftmost-longest, with lstrip/rstrip/
// single_word), the pipeline stages of data/hf_pipeline.h, the BPE model, and the post-processor's tokens.
#include "data/hf_tokenizer.h"

#include <fmt/format.h>

#include <filesystem>

#include "common/check.h"
#include "common/json_file.h"
#include "data/hf_text.h"

namespace st {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
bool flag_of(const json& j, const char* key) { return j.contains(key) && j[key].is_boolean() && j[key].get<bool>(); }

// Leading (or trailing) Unicode White_Space of text[begin, end), in bytes.
size_t leading_space(const std::string& text, size_t begin) {
  size_t i = begin;
  while (i < text.size()) {
    size_t next = i;
    if (!hf::is_white_space(hf::next_code_point(text, next))) break;
    i = next;
  }
  return i - begin;
}
size_t trailing_space_start(const std::string& text, size_t floor, size_t end) {
  size_t start = end;
  for (size_t i = floor; i < end;) {  // forward scan: UTF-8 cannot be stepped backwards safely without it
    const size_t at = i;
    if (!hf::is_white_space(hf::next_code_point(text, i))) start = end;
    else if (start == end) start = at;
  }
  return start;
}

bool is_word_char(const std::string& text, size_t at, bool before) {
  static const hf::Regex word(R"(\w)");
  if (before) {
    size_t begin = at;
    while (begin > 0 && (static_cast<unsigned char>(text[begin - 1]) & 0xC0) == 0x80) --begin;
    if (begin > 0) --begin;
    return !word.find_all(text.substr(begin, at - begin)).empty();
  }
  if (at >= text.size()) return false;
  return !word.find_all(text.substr(at, hf::utf8_length(static_cast<unsigned char>(text[at])))).empty();
}
}  // namespace

HfTokenizer::HfTokenizer(const std::string& json_path) : path_(json_path) {
  const json j = read_json_file(json_path);
  ST_CHECK_INPUT(j.is_object(), "{}: a tokenizer.json must be a JSON object", json_path);
  for (const char* stage : {"truncation", "padding"})
    ST_CHECK_INPUT(!j.contains(stage) || j[stage].is_null(), "{}: \"{}\" is set; safetune truncates and pads itself, set it "
                   "to null", json_path, stage);
  ST_CHECK_INPUT(j.contains("model"), "{}: no \"model\"", json_path);
  model_ = std::make_unique<hf::BpeModel>(j["model"], json_path);
  normalizer_ = hf::make_normalizer(j.value("normalizer", json()), json_path);
  pre_tokenizer_ = hf::make_pre_tokenizer(j.value("pre_tokenizer", json()), json_path);
  decoder_ = hf::make_decoder(j.value("decoder", json()), json_path);
  read_added_tokens(j.value("added_tokens", json::array()));
  read_post_processor(j.value("post_processor", json()));
  const auto config = fs::path(json_path).parent_path() / "tokenizer_config.json";
  if (fs::exists(config)) read_special_token_ids(config.string());
}

HfTokenizer::~HfTokenizer() = default;

void HfTokenizer::read_added_tokens(const json& list) {
  ST_CHECK_INPUT(list.is_array(), "{}: \"added_tokens\" must be a list", path_);
  for (const auto& t : list) {
    ST_CHECK_INPUT(t.is_object() && t.contains("content") && t["content"].is_string() && t.contains("id") &&
                       t["id"].is_number_unsigned() && t["id"].get<double>() < (1 << 24),
                   "{}: added token {} needs a string \"content\" and an \"id\"", path_, json_excerpt(t));
    if (t["content"].get<std::string>().empty()) continue;
    added_.push_back({t["content"], t["id"].get<int>(), flag_of(t, "special"), flag_of(t, "lstrip"), flag_of(t, "rstrip"),
                      flag_of(t, "single_word"), flag_of(t, "normalized")});
  }
  by_first_byte_.assign(256, {});
  for (const auto& t : added_) by_first_byte_[static_cast<unsigned char>(t.content[0])].push_back(&t);
  int size = 0;
  for (const auto& [_, id] : model_->vocab()) size = std::max(size, id + 1);
  for (const auto& t : added_) size = std::max(size, t.id + 1);
  pieces_.assign(static_cast<size_t>(size), "");
  special_.assign(static_cast<size_t>(size), false);
  for (const auto& [piece, id] : model_->vocab()) pieces_[static_cast<size_t>(id)] = piece;
  for (const auto& t : added_) pieces_[static_cast<size_t>(t.id)] = t.content, special_[static_cast<size_t>(t.id)] = t.special;
}

// TemplateProcessing's single-sequence template (alone or inside a Sequence): the ids before and after $A.
// ByteLevel adds nothing; Bert and Roberta put cls before and sep after.
void HfTokenizer::read_post_processor(const json& spec) {
  if (spec.is_null()) return;
  ST_CHECK_INPUT(spec.is_object() && spec.contains("type") && spec["type"].is_string(), "{}: post_processor must have a type", path_);
  const std::string type = spec["type"];
  if (type == "Sequence") {
    ST_CHECK_INPUT(spec.contains("processors") && spec["processors"].is_array(), "{}: post_processor.processors must be a list", path_);
    for (const auto& p : spec["processors"]) read_post_processor(p);
  } else if (type == "TemplateProcessing") {
    ST_CHECK_INPUT(spec.contains("single") && spec["single"].is_array() && spec.contains("special_tokens"),
                   "{}: TemplateProcessing needs \"single\" and \"special_tokens\"", path_);
    bool after = false;
    for (const auto& piece : spec["single"]) {
      if (piece.contains("Sequence")) {
        after = true;
        continue;
      }
      ST_CHECK_INPUT(piece.contains("SpecialToken") && piece["SpecialToken"].contains("id"), "{}: TemplateProcessing piece {} "
                     "is neither a Sequence nor a SpecialToken", path_, json_excerpt(piece));
      const json& token = spec["special_tokens"].value(piece["SpecialToken"]["id"].get<std::string>(), json());
      ST_CHECK_INPUT(token.contains("ids") && token["ids"].is_array(), "{}: TemplateProcessing special token {} has no ids",
                     path_, json_excerpt(piece));
      for (const auto& id : token["ids"]) (after ? suffix_ids_ : prefix_ids_).push_back(id.get<int>());
    }
  } else if (type == "BertProcessing" || type == "RobertaProcessing") {
    prefix_ids_.push_back(spec.at("cls").at(1).get<int>());
    suffix_ids_.push_back(spec.at("sep").at(1).get<int>());
  } else {
    ST_CHECK_INPUT(type == "ByteLevel", "{}: post_processor type '{}' is not supported (supported: TemplateProcessing, "
                   "ByteLevel, BertProcessing, RobertaProcessing, Sequence)", path_, type);
  }
}

// bos_token, eos_token, pad_token, unk_token: a string or {"content": ...}, looked up as a piece.
void HfTokenizer::read_special_token_ids(const std::string& config_path) {
  const json config = read_json_file(config_path);
  ST_CHECK_INPUT(config.is_object(), "{}: must be a JSON object", config_path);
  auto id_of = [&](const char* key) {
    if (!config.contains(key) || config[key].is_null()) return -1;
    const json& v = config[key];
    const json content = v.is_object() ? v.value("content", json()) : v;
    ST_CHECK_INPUT(content.is_string(), "{}: '{}' must be a token string, got {}", config_path, key, json_excerpt(v));
    const auto added = added_token_id(content);
    const auto id = added ? added : model_->id_of(content);
    ST_CHECK_INPUT(id.has_value(), "{}: '{}' is {}, which is not a token of tokenizer.json", config_path, key, json_excerpt(content));
    return *id;
  };
  bos_id_ = id_of("bos_token");
  eos_id_ = id_of("eos_token");
  pad_id_ = id_of("pad_token");
  unk_id_ = id_of("unk_token");
}

std::optional<int> HfTokenizer::added_token_id(const std::string& content) const {
  for (const auto& t : added_)
    if (t.content == content) return t.id;
  return std::nullopt;
}

std::string HfTokenizer::piece(int id) const {
  return id >= 0 && id < vocab_size() ? pieces_[static_cast<size_t>(id)] : std::string();
}

// Cuts the added tokens whose `normalized` flag is `normalized` out of every text split: at the leftmost
// position where one matches the longest wins, and scanning resumes after it (as Aho-Corasick's
// leftmost-longest iterator does, so a match refused by single_word is not retried shorter).
std::vector<hf::Split> HfTokenizer::cut_added_tokens(const std::vector<hf::Split>& splits, bool normalized, bool match_special) const {
  std::vector<hf::Split> out;
  for (const auto& s : splits) {
    if (s.token >= 0) {
      out.push_back(s);
      continue;
    }
    const std::string& text = s.text;
    size_t emitted = 0;
    for (size_t pos = 0; pos < text.size();) {
      const AddedToken* best = nullptr;
      for (const AddedToken* t : by_first_byte_[static_cast<unsigned char>(text[pos])])
        if (t->normalized == normalized && (match_special || !t->special) && (!best || t->content.size() > best->content.size()) &&
            text.compare(pos, t->content.size(), t->content) == 0)
          best = t;
      if (!best) {
        ++pos;
        continue;
      }
      size_t start = pos, stop = pos + best->content.size();
      pos = stop;
      if (best->single_word && (is_word_char(text, start, true) || is_word_char(text, stop, false))) continue;
      if (best->lstrip) start = std::max(emitted, trailing_space_start(text, emitted, start));
      if (best->rstrip) stop += leading_space(text, stop);
      pos = stop;
      if (start > emitted) out.push_back({text.substr(emitted, start - emitted), s.at_start && emitted == 0, -1});
      out.push_back({text.substr(start, stop - start), false, best->id});
      emitted = stop;
    }
    if (emitted < text.size()) out.push_back({text.substr(emitted), s.at_start && emitted == 0, -1});
  }
  return out;
}

std::vector<int> HfTokenizer::encode_pipeline(const std::string& text, bool match_special, bool add_special_tokens) const {
  std::vector<hf::Split> splits = cut_added_tokens({{text, true, -1}}, /*normalized=*/false, match_special);
  if (normalizer_) {
    for (auto& s : splits)
      if (s.token < 0) s.text = normalizer_->normalize(s.text);
    splits = cut_added_tokens(splits, /*normalized=*/true, match_special);
  }
  if (pre_tokenizer_) pre_tokenizer_->split(splits);
  std::vector<int> ids;
  if (add_special_tokens) ids = prefix_ids_;
  for (const auto& s : splits) {
    if (s.token >= 0) ids.push_back(s.token);
    else model_->tokenize(s.text, ids);
  }
  if (add_special_tokens) ids.insert(ids.end(), suffix_ids_.begin(), suffix_ids_.end());
  return ids;
}

std::vector<int> HfTokenizer::encode_text(const std::string& text, bool add_bos, bool add_eos) const {
  std::vector<int> ids;
  if (add_bos) ids.push_back(bos_id_);
  const auto body = encode_pipeline(text, /*match_special=*/false, /*add_special_tokens=*/false);
  ids.insert(ids.end(), body.begin(), body.end());
  if (add_eos) ids.push_back(eos_id_);
  return ids;
}

std::string HfTokenizer::decode_pipeline(const std::vector<int>& ids, bool skip_special) const {
  std::vector<std::string> tokens;
  for (int id : ids)
    if (id >= 0 && id < vocab_size() && !(skip_special && special_[static_cast<size_t>(id)])) tokens.push_back(pieces_[static_cast<size_t>(id)]);
  if (decoder_) decoder_->decode(tokens);
  std::string out;
  for (size_t i = 0; i < tokens.size(); ++i) out += (i > 0 && !decoder_ ? " " : "") + tokens[i];
  return out;
}

TokenizerFormat hf_tokenizer_format() {
  return {"tokenizer.json", {"tokenizer.json"}, "", [](const std::string& path) -> std::unique_ptr<Tokenizer> {
            auto tokenizer = std::make_unique<HfTokenizer>(path);
            const auto config = (fs::path(path).parent_path() / "tokenizer_config.json").string();
            ST_CHECK_INPUT(tokenizer->eos_id() >= 0, "{}: needs an eos_token (the end of a response when the chat template "
                           "names none), set in {}", path, config);
            return tokenizer;
          }};
}

}  // namespace st
