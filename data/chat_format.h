// data/chat_format.h — chat templates as families (llama2, llama3, chatml, mistral, plain): the layout of
// turns that each family's Jinja chat_template produces, recognised from a model folder's template or
// chosen by name. safetune has no Jinja engine; it renders the family's layout itself, and
// tests/data/chat_template_test.cpp proves the ids equal transformers' apply_chat_template.
#pragma once

#include <string>
#include <vector>

namespace st {

struct ChatFormat {
  std::string name;                        // the family: llama2 | llama3 | chatml | mistral | plain
  std::string origin;                      // where it came from, for the log ("chatml, from DIR/tokenizer_config.json")
  bool bos_at_start = true;                // the template writes bos_token first
  bool bos_each_turn = false;              // llama2 opens every [INST] with BOS
  bool system_inside_first_user = false;   // llama2/mistral put the system prompt inside the first user turn
  bool trim_content = false;               // the template strips each message (llama2 .strip(), llama3 | trim)
  std::string system_open, system_close;   // wraps the system prompt
  std::string user_open, user_close;       // wraps a user message; user_close ends with the assistant cue
  std::string response_suffix;             // text that closes a response before its end token, trained with it
  std::string after_response;              // text after a response's end token
  bool after_last_response = false;        // ... also after the conversation's last response (chatml's "\n")
  // Markers in the parts above that are control tokens where the vocabulary defines them, and the one that
  // ends a response instead of EOS ("" = EOS). A vocabulary without them reads the markers as text.
  std::vector<std::string> controls;
  std::string end_of_response;
  std::string default_system;              // the template's own system prompt when a conversation has none
};

// The families safetune renders, by name (exit 2 for another name, listing them).
const ChatFormat& named_chat_format(const std::string& name);
std::vector<std::string> chat_format_names();

// The family a Jinja chat_template uses, with what the template itself fixes (its default system
// prompt). Exit 2 naming `source` and data.template when no family matches.
ChatFormat recognise_chat_template(const std::string& jinja, const std::string& source);

// `choice` is "auto" (the model folder's chat_template from chat_template.jinja or tokenizer_config.json;
// llama2 when the folder has none, said in `origin`) or a family name.
ChatFormat resolve_chat_format(const std::string& choice, const std::string& model_folder);

}  // namespace st
