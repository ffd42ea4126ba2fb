// models/generation.h — batched decoding with a KV cache: prompts are left-padded into one batch, the
// prefill runs once, then one token per step attends to the cache. Greedy when temperature is 0, else
// temperature + nucleus (top-p) sampling from a seeded generator, so a seed reproduces the output.
#pragma once

#include <cstdint>
#include <vector>

#include "models/llama.h"

namespace st {

struct GenerationOptions {
  int64_t max_new_tokens = 64;
  double temperature = 0.0;  // 0 = greedy
  double top_p = 1.0;
  uint64_t seed = 0;
  std::vector<int64_t> stop_ids;  // generation of a row ends after one of these (included in its output)
};

// Returns each prompt's new tokens (not the prompt), stopping at a stop id or max_new_tokens.
std::vector<std::vector<int>> generate(LlamaForCausalLM& model, const std::vector<std::vector<int>>& prompts,
                                       const GenerationOptions& options, int pad_id);

}  // namespace st
