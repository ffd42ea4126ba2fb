// cli/cmd_tokenize.cpp — `safetune tokenize --tokenizer DIR (--text TEXT | --input FILE.jsonl)`: the ids a
// folder's tokenizer gives, one JSON line per text ({"ids", "tokens"}), or with --count only the totals and
// the encoding rate (scripts/bench_tokenizer compares it with the `tokenizers` package).
#include <chrono>
#include <fstream>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "common/check.h"
#include "common/json_file.h"
#include "data/hf_tokenizer.h"
#include "data/tokenizer.h"

namespace st {
using json = nlohmann::json;

namespace {
// Each line a JSON string, or an object with a string "text".
std::vector<std::string> read_texts(const std::string& file) {
  std::vector<std::string> texts;
  std::ifstream in = open_input_file(file);
  std::string line, error;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto j = try_parse_json(line, error);
    ST_CHECK_INPUT(j && (j->is_string() || (j->is_object() && j->contains("text") && (*j)["text"].is_string())),
                   "{}:{}: expected a JSON string or an object with a string \"text\"{}", file, n, error.empty() ? "" : ": " + error);
    texts.push_back(j->is_string() ? j->get<std::string>() : (*j)["text"].get<std::string>());
  }
  return texts;
}
}  // namespace

int run_tokenize(const Args& args) {
  static const CommandSpec& spec = command_spec("tokenize");
  CommandLine cl(spec, args);
  ST_CHECK_INPUT(cl.value("text").has_value() != cl.value("input").has_value(),
                 "tokenize: give exactly one of --text and --input (usage: safetune {})", spec.usage);
  const auto tokenizer = open_tokenizer(*cl.value("tokenizer"));
  const auto* hf = dynamic_cast<const HfTokenizer*>(tokenizer.get());
  ST_CHECK_INPUT(!cl.flag("special") || hf != nullptr, "tokenize: --special needs a tokenizer.json folder ({} is {})",
                 *cl.value("tokenizer"), tokenizer->format());
  const auto texts = cl.value("text") ? std::vector<std::string>{*cl.value("text")} : read_texts(*cl.value("input"));
  auto encode = [&](const std::string& t) {
    return cl.flag("special") ? hf->encode_pipeline(t, /*match_special=*/true, /*add_special_tokens=*/false) : tokenizer->encode(t);
  };
  const auto started = std::chrono::steady_clock::now();
  int64_t tokens = 0, bytes = 0;
  for (const auto& t : texts) {
    const auto ids = encode(t);
    tokens += static_cast<int64_t>(ids.size());
    bytes += static_cast<int64_t>(t.size());
    if (cl.flag("count")) continue;
    json pieces = json::array();
    for (int id : ids) pieces.push_back(tokenizer->piece(id));
    fmt::print("{}\n", json{{"ids", ids}, {"tokens", pieces}}.dump(-1, ' ', false, json::error_handler_t::replace));
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (cl.flag("count"))
    fmt::print("{}\n", json{{"texts", texts.size()}, {"tokens", tokens}, {"bytes", bytes}, {"seconds", s},
                            {"mb_per_s", static_cast<double>(bytes) / 1e6 / std::max(s, 1e-9)}}.dump());
  return 0;
}

}  // namespace st
