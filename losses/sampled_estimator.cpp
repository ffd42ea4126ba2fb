// losses/sampled_estimator.cpp — REINFORCE with a running-mean baseline over sampled continuations.
#include "losses/sampled_estimator.h"

#include <algorithm>
#include <cmath>

#include "common/tokens.h"
#include "models/generation.h"

namespace st {
namespace {

// Each scored row's prompt: the tokens before its first response label.
std::vector<std::vector<int>> prompts_of(const torch::Tensor& input_ids, const torch::Tensor& labels, const torch::Tensor& rows) {
  auto ids = input_ids.to(torch::kCPU).contiguous();
  auto lab = labels.to(torch::kCPU).contiguous();
  auto rows_cpu = rows.to(torch::kCPU).contiguous();
  auto ids_a = ids.accessor<int64_t, 2>();
  auto labels_a = lab.accessor<int64_t, 2>();
  auto rows_a = rows_cpu.accessor<int64_t, 1>();
  std::vector<std::vector<int>> prompts;
  for (int64_t i = 0; i < rows_cpu.numel(); ++i) {
    const int64_t b = rows_a[i];
    std::vector<int> prompt;
    for (int64_t t = 0; t < ids.size(1) && labels_a[b][t] == kIgnoreIndex; ++t) prompt.push_back(static_cast<int>(ids_a[b][t]));
    prompts.push_back(std::move(prompt));
  }
  return prompts;
}

// log pi(sample | prompt) under softmax(logits / T), summed per row, with gradients: [P].
torch::Tensor sample_log_probs(LlamaForCausalLM& model, const std::vector<std::vector<int>>& prompts,
                               const std::vector<std::vector<int>>& samples, int pad_id, double temperature) {
  size_t longest = 0;
  for (size_t i = 0; i < prompts.size(); ++i) longest = std::max(longest, prompts[i].size() + samples[i].size());
  const int64_t P = static_cast<int64_t>(prompts.size()), T = static_cast<int64_t>(longest);
  auto ids = torch::full({P, T}, pad_id, torch::kInt64);           // right-padded prompt + sample
  auto targets = torch::full({P, T}, kIgnoreIndex, torch::kInt64);  // the sample's tokens only
  auto ids_a = ids.accessor<int64_t, 2>();
  auto targets_a = targets.accessor<int64_t, 2>();
  for (int64_t p = 0; p < P; ++p) {
    const auto& prompt = prompts[static_cast<size_t>(p)];
    const auto& sample = samples[static_cast<size_t>(p)];
    int64_t t = 0;
    for (int id : prompt) ids_a[p][t++] = id;
    for (int id : sample) ids_a[p][t] = id, targets_a[p][t++] = id;
  }
  const auto device = model->parameters().front().device();
  auto logits = model(ids.to(device));  // [P, T, V]
  auto logp = torch::log_softmax(logits.narrow(1, 0, T - 1).to(torch::kFloat32) / temperature, /*dim=*/-1);  // [P, T-1, V]
  auto target = targets.narrow(1, 1, T - 1).to(device);                                                        // [P, T-1]
  auto mask = target.ne(kIgnoreIndex);
  auto token_logp = logp.gather(/*dim=*/2, target.clamp_min(0).unsqueeze(2)).squeeze(2) * mask.to(torch::kFloat32);  // [P, T-1]
  return token_logp.sum(/*dim=*/1);
}

}  // namespace

SampledPenalty sampled_penalty(LlamaForCausalLM& model, const torch::Tensor& input_ids, const torch::Tensor& labels,
                               const torch::Tensor& rows, TextScorer& scorer, const LmVocabulary& vocabulary,
                               const SampledPenaltyOptions& options, double baseline, uint64_t seed, bool need_grad) {
  // 1. sample continuations of each prompt (seeded: the same step samples the same text after a resume)
  const auto prompts = prompts_of(input_ids, labels, rows);
  GenerationOptions gen;
  gen.max_new_tokens = options.max_new_tokens;
  gen.temperature = options.temperature;
  gen.seed = seed;
  gen.stop_ids = {vocabulary.eos_id};
  const auto samples = generate(model, prompts, gen, vocabulary.pad_id);
  // 2. score the decoded text (a classifier through its own tokenizer; a judge reads the prompt too)
  std::vector<std::string> prompt_texts, texts;
  for (const auto& p : prompts) prompt_texts.push_back(vocabulary.decode(p));
  for (const auto& s : samples) texts.push_back(vocabulary.decode(s));
  SampledPenalty out;
  out.p_toxic = scorer.score(prompt_texts, texts);
  for (double p : out.p_toxic) out.penalty.push_back(-std::log1p(-std::min(p, 1.0 - 1e-7)));
  if (!need_grad) return out;

  // 3. the surrogate: advantage-weighted log-probabilities of the samples
  const auto log_pi = sample_log_probs(model, prompts, samples, vocabulary.pad_id, options.temperature);  // [P]
  if (std::isnan(baseline)) {  // no running mean yet (the run's first step): this batch's mean
    baseline = 0;
    for (double p : out.penalty) baseline += p / static_cast<double>(out.penalty.size());
  }
  std::vector<double> advantage;
  for (double p : out.penalty) advantage.push_back(p - baseline);
  auto adv = torch::tensor(advantage, torch::kFloat64).to(log_pi.device(), torch::kFloat32);  // [P]
  out.surrogate = (adv * log_pi).sum();
  return out;
}

torch::Tensor SampledEstimator::penalize(const PenaltyInputs& in, PenaltySums& sums) {
  const auto sp = sampled_penalty(*in.model, in.input_ids, in.labels, in.rows, *scorer_, vocabulary_, options_, baseline_,
                                  in.seed, in.differentiable);
  for (size_t i = 0; i < sp.penalty.size(); ++i) sums.host_penalty += sp.penalty[i], sums.host_p_toxic += sp.p_toxic[i];
  return sp.surrogate;
}

void SampledEstimator::end_step(double mean_penalty) {
  const double m = options_.baseline_momentum;
  baseline_ = std::isnan(baseline_) ? mean_penalty : m * baseline_ + (1 - m) * mean_penalty;
}

nlohmann::json SampledEstimator::state() const {
  return {{"baseline", std::isnan(baseline_) ? nlohmann::json(nullptr) : nlohmann::json(baseline_)}};
}

void SampledEstimator::load_state(const nlohmann::json& state, const std::string& label) {
  const auto it = state.find("baseline");
  baseline_ = it != state.end() && it->is_number() ? it->get<double>() : std::nan("");
}

}  // namespace st
