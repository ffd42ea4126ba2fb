// cli/cmd_tokenize.cpp — `safetune tokenize --model DIR (--text TEXT | --input FILE.jsonl) [--chat]`: the ids a
// folder's tokenizer gives, one JSON line per text ({"ids", "tokens"}); with --chat the chat template is
// applied as in training and "loss_mask" marks the trained tokens; with --count only the totals and the
// encoding rate (scripts/bench_tokenizer compares it with the `tokenizers` package).
#include <chrono>
#include <fstream>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "common/check.h"
#include "common/json_file.h"
#include "common/tokens.h"
#include "data/examples.h"
#include "data/hf_tokenizer.h"
#include "data/tokenizer.h"

namespace st {
using json = nlohmann::json;

namespace {
// Each line a JSON string (a text; with --chat a user prompt), or an object: {"text"}, or with --chat any
// training record ({"prompt","completion"}, {"messages"}).
std::vector<std::pair<json, std::string>> read_records(const std::string& file) {
  std::vector<std::pair<json, std::string>> records;
  std::ifstream in = open_input_file(file);
  std::string line, error;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto j = try_parse_json(line, error);
    ST_CHECK_INPUT(j && (j->is_string() || j->is_object()), "{}:{}: expected a JSON string or object{}", file, n,
                   error.empty() ? "" : ": " + error);
    records.emplace_back(*j, fmt::format("{}:{}", file, n));
  }
  return records;
}

Example chat_example(const json& record, const Tokenizer& tok, const DataOptions& o, const std::string& where) {
  if (record.is_string()) return apply_chat_template({{"user", record.get<std::string>()}}, tok, o);  // a prompt, with the cue
  return example_from_json(record, tok, o, where);
}

std::string plain_text(const json& record, const std::string& where) {
  if (record.is_string()) return record.get<std::string>();
  ST_CHECK_INPUT(record.contains("text") && record["text"].is_string(),
                 "{}: expected a JSON string or an object with a string \"text\" (records with \"messages\" or "
                 "\"prompt\" need --chat)", where);
  return record["text"].get<std::string>();
}
}  // namespace

int run_tokenize(const Args& args) {
  static const CommandSpec& spec = command_spec("tokenize");
  CommandLine cl(spec, args);
  ST_CHECK_INPUT(cl.value("text").has_value() != cl.value("input").has_value(),
                 "tokenize: give exactly one of --text and --input (usage: safetune {})", spec.usage);
  ST_CHECK_INPUT(!(cl.flag("chat") && cl.flag("special")), "tokenize: --chat and --special exclude each other "
                 "(the chat template places the special tokens itself)");
  const std::string dir = *cl.value("model");
  const auto tokenizer = open_tokenizer(dir);
  const auto* hf = dynamic_cast<const HfTokenizer*>(tokenizer.get());
  ST_CHECK_INPUT(!cl.flag("special") || hf != nullptr, "tokenize: --special needs a tokenizer.json folder ({} is {})",
                 dir, tokenizer->format());
  DataOptions options;
  if (cl.flag("chat")) options.chat = resolve_chat_format(cl.text("template"), dir);
  const auto records = cl.value("text") ? std::vector<std::pair<json, std::string>>{{json(*cl.value("text")), "--text"}}
                                        : read_records(*cl.value("input"));
  const auto started = std::chrono::steady_clock::now();
  int64_t tokens = 0, bytes = 0;
  for (const auto& [record, where] : records) {
    Example ex;
    if (cl.flag("chat")) {
      ex = chat_example(record, *tokenizer, options, where);
    } else {
      const std::string text = plain_text(record, where);
      bytes += static_cast<int64_t>(text.size());
      ex.input_ids = cl.flag("special") ? hf->encode_pipeline(text, /*match_special=*/true, /*add_special_tokens=*/false)
                                        : tokenizer->encode(text);
    }
    tokens += static_cast<int64_t>(ex.input_ids.size());
    if (cl.flag("count")) continue;
    json line{{"ids", ex.input_ids}, {"tokens", json::array()}};
    for (int id : ex.input_ids) line["tokens"].push_back(tokenizer->piece(id));
    if (cl.flag("chat")) {
      line["loss_mask"] = json::array();
      for (int l : ex.labels) line["loss_mask"].push_back(l == kIgnoreIndex ? 0 : 1);
    }
    fmt::print("{}\n", line.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (cl.flag("count"))
    fmt::print("{}\n", json{{"texts", records.size()}, {"tokens", tokens}, {"bytes", bytes}, {"seconds", s},
                            {"mb_per_s", static_cast<double>(bytes) / 1e6 / std::max(s, 1e-9)}}.dump());
  if (cl.flag("chat") && !cl.flag("count")) fmt::print(stderr, "chat template: {}\n", options.chat.origin);
  return 0;
}

}  // namespace st
