// data/examples.cpp — JSONL readers, chat templates and loss masks.
#include "data/examples.h"

#include <nlohmann/json.hpp>

#include <algorithm>


#include "common/check.h"
#include "common/json_file.h"
#include "common/text.h"
#include "common/tokens.h"

namespace st {
namespace {
using json = nlohmann::json;

// The layout in force: the resolved one, or the family named when no model folder was involved.
const ChatFormat& chat_format_of(const DataOptions& o) {
  if (!o.chat.name.empty()) return o.chat;
  ST_CHECK(o.chat_template != "auto", "internal: data.template auto was not resolved against the model folder");
  return named_chat_format(o.chat_template);
}

// Text of one template step: the template's own (its control markers become tokens) or the user's
// (always literal: data cannot inject a control token).
struct Segment {
  std::string text;
  bool from_template;
};

class TemplateEncoder {
 public:
  TemplateEncoder(const Tokenizer& tok, const std::vector<std::string>& controls) : tok_(tok) {
    for (const auto& c : controls)
      if (const auto id = tok.control_token_id(c)) controls_.emplace_back(c, *id);
  }

  // Without control tokens in the vocabulary the segments are joined and encoded as one text (as they always
  // were); with them, each segment is encoded alone and the markers in the template's become their ids.
  std::vector<int> operator()(const std::vector<Segment>& segments) const {
    if (controls_.empty()) {
      std::string joined;
      for (const auto& s : segments) joined += s.text;
      return tok_.encode(joined);
    }
    std::vector<int> ids;
    for (const auto& s : segments) {
      if (s.from_template) encode_template_text(s.text, ids);
      else if (!s.text.empty()) append_ids(ids, tok_.encode(s.text));
    }
    return ids;
  }

 private:
  static void append_ids(std::vector<int>& ids, const std::vector<int>& more) { ids.insert(ids.end(), more.begin(), more.end()); }

  void encode_template_text(const std::string& text, std::vector<int>& ids) const {
    size_t pos = 0;
    while (pos < text.size()) {
      size_t hit = std::string::npos;
      const std::pair<std::string, int>* control = nullptr;
      for (const auto& c : controls_)
        if (const size_t at = text.find(c.first, pos); at < hit) hit = at, control = &c;
      if (hit > pos) append_ids(ids, tok_.encode(text.substr(pos, hit == std::string::npos ? std::string::npos : hit - pos)));
      if (!control) break;
      ids.push_back(control->second);
      pos = hit + control->first.size();
    }
  }

  const Tokenizer& tok_;
  std::vector<std::pair<std::string, int>> controls_;
};

void append(Example& ex, const std::vector<int>& ids, bool train) {
  ex.input_ids.insert(ex.input_ids.end(), ids.begin(), ids.end());
  for (int id : ids) ex.labels.push_back(train ? id : static_cast<int>(kIgnoreIndex));
}

struct LineError {
  std::string message;
};

[[noreturn]] void bad(const std::string& message) { throw LineError{message}; }

std::string string_field(const json& j, const char* key) {
  if (!j.contains(key)) bad(fmt::format("missing \"{}\"", key));
  if (!j[key].is_string()) bad(fmt::format("\"{}\" must be a string, got {}", key, j[key].type_name()));
  return j[key].get<std::string>();
}

std::string detect_format(const json& j) {
  if (j.contains("messages")) return "chat";
  if (j.contains("prompt") || j.contains("completion")) return "prompt_completion";
  if (j.contains("text")) return "text";
  bad("cannot tell the format: expected \"prompt\"+\"completion\", \"messages\" or \"text\"");
}

std::vector<Turn> chat_turns(const json& j) {
  const json& messages = j.at("messages");
  if (!messages.is_array() || messages.empty()) bad("\"messages\" must be a non-empty list");
  std::vector<Turn> turns;
  for (size_t i = 0; i < messages.size(); ++i) {
    const json& m = messages[i];
    if (!m.is_object()) bad(fmt::format("messages[{}] must be an object with \"role\" and \"content\"", i));
    Turn t;
    try {
      t.role = string_field(m, "role");
      t.content = string_field(m, "content");
    } catch (const LineError& e) {
      bad(fmt::format("messages[{}]: {}", i, e.message));
    }
    if (t.role != "system" && t.role != "user" && t.role != "assistant")
      bad(fmt::format("messages[{}]: role \"{}\" (expected system, user or assistant)", i, t.role));
    if (t.role == "system" && i != 0) bad(fmt::format("messages[{}]: a system message may only come first", i));
    turns.push_back(std::move(t));
  }
  // After an optional system message, roles alternate user, assistant, ...
  const size_t first = turns[0].role == "system" ? 1 : 0;
  for (size_t i = first; i < turns.size(); ++i) {
    const char* want = (i - first) % 2 == 0 ? "user" : "assistant";
    if (turns[i].role != want)
      bad(fmt::format("messages[{}]: expected a {} message (user and assistant must alternate)", i, want));
  }
  if (turns.back().role != "assistant") bad("the last message must be from the assistant (nothing to learn otherwise)");
  return turns;
}

Example example_from_record(const json& j, const std::string& format, const Tokenizer& tok, const DataOptions& o) {
  if (format == "text") {
    Example ex;
    const std::string text = string_field(j, "text");
    if (text.empty()) bad("\"text\" is empty");
    // BOS opens plain text where the family's template opens with it (not chatml's, whose BOS is <|im_start|>).
    if (chat_format_of(o).bos_at_start && tok.bos_id() >= 0) append(ex, {tok.bos_id()}, /*train=*/false);
    append(ex, tok.encode(text), /*train=*/true);
    append(ex, {tok.eos_id()}, /*train=*/true);
    return ex;
  }
  std::vector<Turn> turns;
  if (format == "prompt_completion") {
    const std::string prompt = string_field(j, "prompt"), completion = string_field(j, "completion");
    if (completion.empty()) bad("\"completion\" is empty");
    turns = {{"user", prompt}, {"assistant", completion}};
  } else {
    if (!j.contains("messages")) bad("missing \"messages\" (data.format is chat)");
    turns = chat_turns(j);
  }
  for (const auto& t : turns)
    if (t.role == "assistant" && t.content.empty()) bad("an assistant response is empty");
  return apply_chat_template(turns, tok, o);
}

}  // namespace

// Segments are encoded one by one, so prompt/response boundaries fall exactly between tokens and generation
// later sees the same tokens as training.
Example apply_chat_template(const std::vector<Turn>& turns, const Tokenizer& tok, const DataOptions& o) {
  const ChatFormat& f = chat_format_of(o);
  const TemplateEncoder enc{tok, f.controls};
  auto content = [&](const std::string& text) { return f.trim_content ? trimmed(text) : text; };
  Example ex;
  size_t i = 0;
  std::string system = o.system_prompt;  // a conversation's own system message wins, then data.system_prompt
  if (!turns.empty() && turns[0].role == "system") system = turns[i++].content;
  if (system.empty()) system = f.default_system;
  const std::vector<Segment> system_segments{{f.system_open, true}, {content(system), false}, {f.system_close, true}};
  if (f.bos_at_start || f.bos_each_turn)
    ST_CHECK_INPUT(tok.bos_id() >= 0, "{}: the tokenizer has no bos_token, which the {} chat template writes; set "
                   "data.template to one without it (chatml)", tok.path(), f.name);
  if (f.bos_at_start) append(ex, {tok.bos_id()}, false);
  if (!system.empty() && !f.system_inside_first_user) append(ex, enc(system_segments), false);
  bool first_user = true;
  for (; i < turns.size(); ++i) {
    const Turn& t = turns[i];
    if (t.role == "user") {
      if (f.bos_each_turn && !first_user) append(ex, {tok.bos_id()}, false);
      std::vector<Segment> segments{{f.user_open, true}};
      if (first_user && f.system_inside_first_user && !system.empty())
        segments.insert(segments.end(), system_segments.begin(), system_segments.end());
      segments.insert(segments.end(), {{content(t.content), false}, {f.user_close, true}});
      append(ex, enc(segments), false);
      first_user = false;
    } else {
      append(ex, tok.encode(content(t.content) + f.response_suffix), true);
      append(ex, {response_end_id(tok, o)}, true);
      if (!f.after_response.empty() && (i + 1 < turns.size() || f.after_last_response)) append(ex, enc({{f.after_response, true}}), false);
    }
  }
  return ex;
}

Example example_from_json(const json& record, const Tokenizer& tok, const DataOptions& o, const std::string& where) {
  try {
    if (!record.is_object()) bad(fmt::format("expected a JSON object, got {}", record.type_name()));
    return example_from_record(record, o.format == "auto" ? detect_format(record) : o.format, tok, o);
  } catch (const LineError& e) {
    fail_input("{}: {}", where, e.message);
  }
}

std::vector<int64_t> generation_stop_ids(const Tokenizer& tok, const DataOptions& o) {
  const int end = response_end_id(tok, o);
  if (end == tok.eos_id()) return {tok.eos_id()};
  return {end, tok.eos_id()};
}

int response_end_id(const Tokenizer& tok, const DataOptions& o) {
  const ChatFormat& f = chat_format_of(o);
  return f.end_of_response.empty() ? tok.eos_id() : tok.control_token_id(f.end_of_response).value_or(tok.eos_id());
}

LineOutcome tokenize_line(const std::string& line, const Tokenizer& tok, const DataOptions& o) {
  LineOutcome out;
  try {
    std::string error;
    const auto parsed = try_parse_json(line, error);
    if (!parsed) bad(fmt::format("not valid JSON (one JSON object per line, UTF-8): {}", error));
    const json& j = *parsed;
    if (!j.is_object()) bad(fmt::format("expected a JSON object, got {}", j.type_name()));
    out.format = o.format == "auto" ? detect_format(j) : o.format;
    out.example = example_from_record(j, out.format, tok, o);
  } catch (const LineError& e) {
    out.kind = LineOutcome::Bad;
    out.error = e.message;
    return out;
  }
  Example& ex = out.example;
  if (static_cast<int64_t>(ex.input_ids.size()) > o.max_seq_len) {
    ex.input_ids.resize(static_cast<size_t>(o.max_seq_len));
    ex.labels.resize(static_cast<size_t>(o.max_seq_len));
    const bool trainable = std::any_of(ex.labels.begin() + 1, ex.labels.end(), [](int l) { return l != kIgnoreIndex; });
    if (o.truncation == Truncation::Drop || !trainable) {
      out.kind = LineOutcome::Dropped;
      return out;
    }
    ex.truncated = true;
  }
  out.kind = LineOutcome::Kept;
  return out;
}

}  // namespace st
