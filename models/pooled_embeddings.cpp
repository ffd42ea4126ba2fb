// models/pooled_embeddings.cpp — masked mean pooling over right-padded batches.
#include "models/pooled_embeddings.h"

#include <algorithm>

#include "models/classifier_scoring.h"

namespace st {

torch::Tensor mean_pooled_embeddings(LlamaForCausalLM& model, const std::vector<const std::vector<int>*>& token_lists,
                                     int64_t batch_size, int pad_id) {
  torch::NoGradGuard no_grad;
  const auto device = model->parameters().front().device();
  std::vector<torch::Tensor> out;
  for (size_t start = 0; start < token_lists.size(); start += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(token_lists.size(), start + static_cast<size_t>(batch_size));
    const std::vector<const std::vector<int>*> chunk(token_lists.begin() + static_cast<std::ptrdiff_t>(start),
                                                     token_lists.begin() + static_cast<std::ptrdiff_t>(end));
    auto [ids, mask] = pad_token_lists(chunk, pad_id);  // [B, T], [B, T]
    auto weights = mask.to(torch::kFloat32);
    auto len = weights.sum(/*dim=*/1, /*keepdim=*/true);  // [B, 1]
    // Right padding under causal attention: real positions never see the padding, so pooling over the
    // mask gives each row's embedding as if it were alone.
    auto hidden = model->model(ids.to(device)).to(torch::kCPU, torch::kFloat32);  // [B, T, H]
    out.push_back((hidden * weights.unsqueeze(2)).sum(/*dim=*/1) / len);
  }
  return torch::cat(out, /*dim=*/0);  // [N, H]
}

}  // namespace st
