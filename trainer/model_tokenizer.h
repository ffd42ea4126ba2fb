// trainer/model_tokenizer.h — the one check that a model folder's tokenizer and config.json agree, made
// wherever both are loaded (train, eval, generate).
#pragma once

#include <string>

#include "data/tokenizer.h"
#include "models/llama_config.h"

namespace st {

// Exit 2 naming config.json and the field when the tokenizer has more pieces than vocab_size, when both
// name a BOS and the ids differ, or when config.json lists EOS ids and the tokenizer's EOS is not one of them.
void check_tokenizer_matches_model(const Tokenizer& tokenizer, const LlamaConfig& config, const std::string& config_path);

}  // namespace st
