// trainer/model_tokenizer.cpp — tokenizer against config.json.
#include "trainer/model_tokenizer.h"

#include <fmt/ranges.h>

#include <algorithm>

#include "common/check.h"

namespace st {

void check_tokenizer_matches_model(const Tokenizer& tok, const LlamaConfig& config, const std::string& config_path) {
  ST_CHECK_INPUT(tok.vocab_size() <= config.vocab_size, "{}: vocab_size is {} but the tokenizer ({}) has {} pieces",
                 config_path, config.vocab_size, tok.path(), tok.vocab_size());
  ST_CHECK_INPUT(!config.bos_token_id || tok.bos_id() < 0 || *config.bos_token_id == tok.bos_id(),
                 "{}: bos_token_id is {} but the tokenizer ({}) has BOS {}", config_path, config.bos_token_id.value_or(-1),
                 tok.path(), tok.bos_id());
  const auto& eos = config.eos_token_ids;
  ST_CHECK_INPUT(eos.empty() || std::find(eos.begin(), eos.end(), tok.eos_id()) != eos.end(),
                 "{}: eos_token_id is {} but the tokenizer ({}) has EOS {}", config_path, fmt::join(eos, ", "), tok.path(),
                 tok.eos_id());
}

}  // namespace st
