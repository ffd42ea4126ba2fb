// models/pooled_embeddings.h — one vector per sequence: the mean of a decoder's last hidden states (after
// the final norm), as the safety-subset strategies `prototype` and `similar` compare examples by it.
#pragma once

#include <torch/types.h>

#include <vector>

#include "models/llama.h"

namespace st {

// [N, H] float32 on the CPU, one row per token list, computed `batch_size` lists at a time.
torch::Tensor mean_pooled_embeddings(LlamaForCausalLM& model, const std::vector<const std::vector<int>*>& token_lists,
                                     int64_t batch_size, int pad_id);

}  // namespace st
