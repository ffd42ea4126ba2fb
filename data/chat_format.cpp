// data/chat_format.cpp — the chat families' layouts, and recognising one in a Jinja chat_template.
#include "data/chat_format.h"

#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <regex>

#include "common/check.h"
#include "common/files.h"
#include "common/json_file.h"

namespace st {
namespace {
namespace fs = std::filesystem;

ChatFormat llama2() {  // Llama-2-chat: <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {response} </s>
  ChatFormat f;
  f.name = "llama2";
  f.bos_each_turn = f.system_inside_first_user = f.trim_content = true;
  f.system_open = "<<SYS>>\n", f.system_close = "\n<</SYS>>\n\n";
  f.user_open = "[INST] ", f.user_close = " [/INST]";
  return f;
}

ChatFormat llama3() {  // <|begin_of_text|><|start_header_id|>{role}<|end_header_id|>\n\n{content}<|eot_id|>
  ChatFormat f;
  f.name = "llama3";
  f.trim_content = true;
  f.system_open = "<|start_header_id|>system<|end_header_id|>\n\n", f.system_close = "<|eot_id|>";
  f.user_open = "<|start_header_id|>user<|end_header_id|>\n\n";
  f.user_close = "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
  f.controls = {"<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"};
  f.end_of_response = "<|eot_id|>";
  return f;
}

ChatFormat chatml() {  // <|im_start|>{role}\n{content}<|im_end|>\n, no BOS (Qwen2, SmolLM2)
  ChatFormat f;
  f.name = "chatml";
  f.bos_at_start = false;
  f.system_open = "<|im_start|>system\n", f.system_close = "<|im_end|>\n";
  f.user_open = "<|im_start|>user\n", f.user_close = "<|im_end|>\n<|im_start|>assistant\n";
  f.after_response = "\n", f.after_last_response = true;
  f.controls = {"<|im_start|>", "<|im_end|>"};
  f.end_of_response = "<|im_end|>";
  return f;
}

ChatFormat mistral() {  // <s>[INST] {user} [/INST]{response}</s>; a system prompt opens the first user turn
  ChatFormat f;
  f.name = "mistral";
  f.system_inside_first_user = true;
  f.system_close = "\n\n";
  f.user_open = "[INST] ", f.user_close = " [/INST]";
  return f;
}

ChatFormat plain() {  // safetune's own, for models without a chat template
  ChatFormat f;
  f.name = "plain";
  f.system_open = "### System:\n", f.system_close = "\n\n";
  f.user_open = "### User:\n", f.user_close = "\n\n### Assistant:\n";
  f.after_response = "\n\n";
  return f;
}

bool has(const std::string& text, const char* what) { return text.find(what) != std::string::npos; }

// chatml templates write their own system prompt when a conversation has none (SmolLM2, Qwen2); it is the
// literal text between "<|im_start|>system\n" and "<|im_end|>" (a newline may be written as \n).
std::string chatml_default_system(const std::string& jinja) {
  static const std::regex literal(R"(<\|im_start\|>system(?:\\n|\n)([^'"{}+]*?)<\|im_end\|>)");
  std::smatch m;
  if (!std::regex_search(jinja, m, literal)) return "";
  return std::regex_replace(m[1].str(), std::regex(R"(\\n)"), "\n");
}

// A family recognised in a template: its markers, and what the template fixes beyond the layout.
struct ChatFamily {
  std::function<ChatFormat()> layout;
  std::function<bool(const std::string& jinja)> matches;
  std::function<void(const std::string& jinja, ChatFormat&)> refine = [](const std::string&, ChatFormat&) {};
};

// Order matters: the first family whose markers a template holds is its family.
const std::vector<ChatFamily>& families() {
  static const std::vector<ChatFamily> all = {
      {chatml, [](const std::string& j) { return has(j, "<|im_start|>") && has(j, "<|im_end|>"); },
       [](const std::string& j, ChatFormat& f) { f.default_system = chatml_default_system(j); }},
      {llama3, [](const std::string& j) { return has(j, "<|start_header_id|>") && has(j, "<|eot_id|>"); }},
      {llama2, [](const std::string& j) { return has(j, "[INST]") && has(j, "<<SYS>>"); },
       // Meta's template (and training format) writes "{answer} </s>": the space before EOS is trained.
       [](const std::string& j, ChatFormat& f) { f.response_suffix = has(j, "' ' + eos_token") ? " " : ""; }},
      {mistral, [](const std::string& j) { return has(j, "[INST]") && has(j, "[/INST]"); }},
  };
  return all;
}

// The folder's template: chat_template.jinja, else tokenizer_config.json's "chat_template" (a string, or
// a list of {name, template} whose "default" entry is the chat template). "" when it has none.
std::string folder_chat_template(const std::string& folder, std::string& source) {
  if (const auto jinja = fs::path(folder) / "chat_template.jinja"; fs::exists(jinja)) {
    source = jinja.string();
    return read_text_file(source);
  }
  const auto config_path = (fs::path(folder) / "tokenizer_config.json").string();
  if (!fs::exists(config_path)) return "";
  const auto config = read_json_file(config_path);
  source = config_path + " (chat_template)";
  if (!config.is_object() || !config.contains("chat_template") || config["chat_template"].is_null()) return "";
  const auto& t = config["chat_template"];
  if (t.is_string()) return t.get<std::string>();
  if (t.is_array())
    for (const auto& entry : t)
      if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template") && entry["template"].is_string())
        return entry["template"].get<std::string>();
  fail_input("{}: chat_template must be a string or a list holding a {{\"name\": \"default\", \"template\": ...}} entry", config_path);
}

}  // namespace

std::vector<std::string> chat_format_names() { return {"llama2", "llama3", "chatml", "mistral", "plain"}; }

const ChatFormat& named_chat_format(const std::string& name) {
  static const std::vector<ChatFormat> all = {llama2(), llama3(), chatml(), mistral(), plain()};
  for (const auto& f : all)
    if (f.name == name) return f;
  fail_input("unknown chat template '{}' ({})", name, fmt::join(chat_format_names(), ", "));
}

ChatFormat recognise_chat_template(const std::string& jinja, const std::string& source) {
  ST_CHECK_INPUT(!has(jinja, "Cutting Knowledge Date"),
                 "{}: this Llama 3.1+ chat template writes a dated system block that safetune does not render; "
                 "set data.template (e.g. llama3 for the Llama 3 layout without it)", source);
  for (const auto& family : families()) {
    if (!family.matches(jinja)) continue;
    ChatFormat f = family.layout();
    family.refine(jinja, f);
    f.origin = fmt::format("{}, recognised in {}", f.name, source);
    return f;
  }
  fail_input("{}: the chat template is none that safetune recognises (chatml, llama3, llama2, mistral); set "
             "data.template to the family whose layout it follows ({})", source, fmt::join(chat_format_names(), ", "));
}

ChatFormat resolve_chat_format(const std::string& choice, const std::string& model_folder) {
  if (choice != "auto") {
    ChatFormat f = named_chat_format(choice);
    f.origin = fmt::format("{}, set by data.template", f.name);
    return f;
  }
  std::string source;
  const std::string jinja = fs::is_directory(model_folder) ? folder_chat_template(model_folder, source) : "";
  if (!jinja.empty()) return recognise_chat_template(jinja, source);
  ChatFormat f = named_chat_format("llama2");
  f.origin = fmt::format("llama2, because {} has no chat template", model_folder);
  return f;
}

}  // namespace st
