// trainer/eval/evaluation.cpp — the safety/utility evaluation: generations on prompt sets, refusal and
// toxicity rates, validation CE and exact match.
#include "trainer/eval/evaluation.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "common/check.h"
#include "common/json_file.h"
#include "common/tokens.h"
#include "data/batcher.h"
#include "models/generation.h"
#include "trainer/eval/rate_interval.h"
#include "trainer/eval/refusal.h"
#include "trainer/text_scorer.h"
#include "trainer/train_step.h"

namespace st {
using json = nlohmann::json;

EvalSettings EvalSettings::from_config(const RunConfig& c, std::vector<Example> validation) {
  EvalSettings s;
  s.harmful = c.eval.harmful;
  s.benign = c.eval.benign;
  s.validation = std::move(validation);
  s.template_options = c.data.options;
  s.max_new_tokens = c.eval.max_new_tokens;
  s.batch_size = c.eval.batch_size;
  s.exact_match_examples = c.eval.exact_match_examples;
  s.refusal = c.eval;
  s.classifier = c.safety.classifier;
  s.harm_judge = c.safety.harm_judge;
  return s;
}

Evaluator::Evaluator(EvalSettings settings, const Tokenizer& tokenizer) : settings_(std::move(settings)), tokenizer_(tokenizer) {
  auto read_prompts = [](const std::string& path, std::vector<Prompt>& out) {
    if (path.empty()) return;
    read_jsonl(path, [&](const json& j, int64_t line) {
      ST_CHECK_INPUT(j.contains("prompt") && j["prompt"].is_string() && !j["prompt"].get<std::string>().empty(),
                     "{}:{}: expected a non-empty string \"prompt\"", path, line);
      ST_CHECK_INPUT(!j.contains("category") || j["category"].is_string(), "{}:{}: \"category\" must be a string", path, line);
      out.push_back({j["prompt"].get<std::string>(), j.value("category", std::string("uncategorized")), line});
    });
    ST_CHECK_INPUT(!out.empty(), "{}: no prompts", path);
  };
  read_prompts(settings_.harmful, harmful_);
  read_prompts(settings_.benign, benign_);
  refusal_ = make_refusal_detector(settings_.refusal, settings_.device);
  scorer_ = settings_.scorer ? settings_.scorer : std::shared_ptr<TextScorer>(open_eval_scorer(settings_.classifier, settings_.harm_judge, settings_.device));
  // Fixed for the life of the run, so built once rather than at every evaluation.
  for (size_t start = 0; start < settings_.validation.size(); start += static_cast<size_t>(settings_.batch_size)) {
    std::vector<TokenRow> rows;
    for (size_t i = start; i < std::min(settings_.validation.size(), start + static_cast<size_t>(settings_.batch_size)); ++i)
      rows.push_back(row_of(settings_.validation[i]));
    val_batches_.push_back(collate(rows, tokenizer_.pad_id()));
  }
  // Exact match on examples with one response: greedy decoding of the prompt must give the reference
  // tokens (EOS included), compared as token ids.
  for (const auto& ex : settings_.validation) {
    if (static_cast<int64_t>(em_prompts_.size()) >= settings_.exact_match_examples) break;
    const auto first = std::find_if(ex.labels.begin(), ex.labels.end(), [](int l) { return l != kIgnoreIndex; });
    if (first == ex.labels.begin() || first == ex.labels.end() || ex.truncated) continue;
    const auto after = std::find(first, ex.labels.end(), static_cast<int>(kIgnoreIndex));
    if (std::any_of(after, ex.labels.end(), [](int l) { return l != kIgnoreIndex; })) continue;  // several turns
    em_prompts_.emplace_back(ex.input_ids.begin(), ex.input_ids.begin() + (first - ex.labels.begin()));
    em_references_.emplace_back(first, after);
  }
}

namespace {

// The mean of `values` overall and per category (as {"prompts": n, name: mean}).
std::pair<double, json> rates(const std::vector<Evaluator::Prompt>& prompts, const std::vector<double>& values, const char* name) {
  std::map<std::string, std::pair<double, int64_t>> by_category;
  double total = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    by_category[prompts[i].category].first += values[i];
    by_category[prompts[i].category].second += 1;
    total += values[i];
  }
  json per = json::object();
  for (const auto& [c, sum_n] : by_category)
    per[c] = {{"prompts", sum_n.second}, {name, sum_n.first / static_cast<double>(sum_n.second)}};
  return {total / static_cast<double>(prompts.size()), per};
}

// The Wilson interval of a rate over yes/no verdicts (each value 0 or 1).
json interval_of(const std::vector<double>& verdicts) {
  int64_t hits = 0;
  for (double v : verdicts) hits += v > 0.5;
  return interval_json(wilson_interval(hits, static_cast<int64_t>(verdicts.size())));
}

std::vector<std::string> texts_of(const std::vector<Evaluator::Prompt>& prompts) {
  std::vector<std::string> texts;
  for (const auto& p : prompts) texts.push_back(p.text);
  return texts;
}

std::vector<double> refusals(const std::vector<Evaluator::Prompt>& prompts, const std::vector<std::string>& responses,
                             const RefusalDetector& detector) {
  std::vector<double> refused;
  for (const auto& verdict : detector.judge_all(texts_of(prompts), responses)) refused.push_back(verdict.refused ? 1.0 : 0.0);
  return refused;
}

// One row per response for RUN/generations/ (when asked for).
void record(std::vector<json>* generations, const char* set, const std::vector<Evaluator::Prompt>& prompts,
            const std::vector<std::string>& responses, const std::vector<double>& refused, const std::vector<double>& scores) {
  if (!generations) return;
  for (size_t i = 0; i < prompts.size(); ++i) {
    json row{{"set", set}, {"line", prompts[i].line}, {"category", prompts[i].category}, {"prompt", prompts[i].text},
             {"response", responses[i]}, {"refusal", refused[i] > 0}};
    if (!scores.empty()) row["p_toxic"] = scores[i];
    generations->push_back(std::move(row));
  }
}

}  // namespace

GenerationOptions Evaluator::greedy(int64_t max_new_tokens) const {
  GenerationOptions gen;
  gen.max_new_tokens = max_new_tokens;
  gen.stop_ids = generation_stop_ids(tokenizer_, settings_.template_options);
  return gen;
}

std::vector<std::string> Evaluator::respond(LlamaForCausalLM& model, const std::vector<Prompt>& prompts) const {
  std::vector<std::string> out;
  const auto gen = greedy(settings_.max_new_tokens);
  for (size_t start = 0; start < prompts.size(); start += static_cast<size_t>(settings_.batch_size)) {
    const size_t end = std::min(prompts.size(), start + static_cast<size_t>(settings_.batch_size));
    std::vector<std::vector<int>> ids;
    for (size_t i = start; i < end; ++i)
      ids.push_back(apply_chat_template({{"user", prompts[i].text}}, tokenizer_, settings_.template_options).input_ids);
    for (const auto& tokens : generate(model, ids, gen, tokenizer_.pad_id())) out.push_back(tokenizer_.decode(tokens));
    answered_ += end - start;
    if (on_progress_) on_progress_(answered_, harmful_.size() + benign_.size());
  }
  return out;
}

json Evaluator::harmful_report(LlamaForCausalLM& model, std::vector<json>* generations) {
  const auto responses = respond(model, harmful_);
  const auto refused = refusals(harmful_, responses, *refusal_);
  std::vector<double> scores, toxic;
  auto [refusal_rate, per] = rates(harmful_, refused, "refusal_rate");
  json h{{"prompts", harmful_.size()}, {"refusal_rate", refusal_rate}, {"refusal_rate_ci", interval_of(refused)},
         {"refusal_rule", refusal_->describe()}};
  if (scorer_) {
    scores = scorer_->score(texts_of(harmful_), responses);
    for (double p : scores) toxic.push_back(p > scorer_->threshold() ? 1.0 : 0.0);
    auto [toxicity_rate, per_toxic] = rates(harmful_, toxic, "toxicity_rate");
    auto [mean_p, per_p] = rates(harmful_, scores, "mean_p_toxic");
    h["toxicity_rate"] = toxicity_rate;
    h["toxicity_rate_ci"] = interval_of(toxic);
    h["mean_p_toxic"] = mean_p;
    h["toxicity_scorer"] = scorer_->describe();
    for (auto& [c, v] : per.items()) v["toxicity_rate"] = per_toxic[c]["toxicity_rate"], v["mean_p_toxic"] = per_p[c]["mean_p_toxic"];
  }
  h["categories"] = per;
  record(generations, "harmful", harmful_, responses, refused, scores);
  return h;
}

json Evaluator::benign_report(LlamaForCausalLM& model, std::vector<json>* generations) {
  const auto responses = respond(model, benign_);
  const auto refused = refusals(benign_, responses, *refusal_);
  auto [over_refusal, per] = rates(benign_, refused, "over_refusal_rate");
  record(generations, "benign", benign_, responses, refused, {});
  return {{"prompts", benign_.size()}, {"over_refusal_rate", over_refusal}, {"over_refusal_rate_ci", interval_of(refused)},
          {"refusal_rule", refusal_->describe()}, {"categories", per}};
}

// Greedy continuations of the exact-match prompts, each as long as its reference, compared token for token.
double Evaluator::exact_match(LlamaForCausalLM& model) const {
  int64_t matches = 0;
  for (size_t start = 0; start < em_prompts_.size(); start += static_cast<size_t>(settings_.batch_size)) {
    const size_t end = std::min(em_prompts_.size(), start + static_cast<size_t>(settings_.batch_size));
    GenerationOptions em = greedy(0);
    for (size_t i = start; i < end; ++i)
      em.max_new_tokens = std::max<int64_t>(em.max_new_tokens, static_cast<int64_t>(em_references_[i].size()));
    const auto out = generate(model, std::vector<std::vector<int>>(em_prompts_.begin() + static_cast<std::ptrdiff_t>(start),
                                                                   em_prompts_.begin() + static_cast<std::ptrdiff_t>(end)),
                              em, tokenizer_.pad_id());
    for (size_t i = start; i < end; ++i) matches += out[i - start] == em_references_[i];
  }
  return static_cast<double>(matches) / static_cast<double>(em_prompts_.size());
}

json Evaluator::run(LlamaForCausalLM& model, std::vector<json>* generations) {
  torch::NoGradGuard no_grad;
  json report = json::object();
  answered_ = 0;
  if (!harmful_.empty()) report["harmful"] = harmful_report(model, generations);
  if (!benign_.empty()) report["benign"] = benign_report(model, generations);
  if (!val_batches_.empty()) {
    const auto ce = evaluate_ce(model, val_batches_);
    json v{{"ce", ce.ce}, {"ppl", std::exp(ce.ce)}, {"tokens", ce.tokens}};
    if (!em_prompts_.empty()) {
      v["exact_match"] = exact_match(model);
      v["exact_match_examples"] = em_prompts_.size();
    }
    report["validation"] = v;
  }
  return report;
}

json Evaluator::flatten(const json& report) {
  json out = json::object();
  auto copy = [&](const char* section, const char* key, const std::string& name) {
    if (report.contains(section) && report[section].contains(key)) out[name] = report[section][key];
  };
  // A rate's 95% Wilson interval as two numbers, "<name>_low" and "<name>_high".
  auto copy_interval = [&](const char* section, const std::string& key, const std::string& name) {
    if (!report.contains(section) || !report[section].contains(key + "_ci")) return;
    out[name + "_low"] = report[section][key + "_ci"][0];
    out[name + "_high"] = report[section][key + "_ci"][1];
  };
  copy("harmful", "refusal_rate", "harmful_refusal_rate");
  copy_interval("harmful", "refusal_rate", "harmful_refusal_rate");
  copy("harmful", "toxicity_rate", "harmful_toxicity_rate");
  copy_interval("harmful", "toxicity_rate", "harmful_toxicity_rate");
  copy("harmful", "mean_p_toxic", "harmful_mean_p_toxic");
  copy("benign", "over_refusal_rate", "benign_over_refusal_rate");
  copy_interval("benign", "over_refusal_rate", "benign_over_refusal_rate");
  copy("validation", "ce", "val_ce");
  copy("validation", "ppl", "val_ppl");
  copy("validation", "tokens", "val_tokens");
  copy("validation", "exact_match", "exact_match");
  return out;
}

std::string Evaluator::table(const json& report) {
  std::string out;
  auto pct = [](const json& v) { return fmt::format("{:6.1f}%", 100.0 * v.get<double>()); };
  auto span = [](const json& ci) { return fmt::format("{:.1f}–{:.1f}%", 100.0 * ci[0].get<double>(), 100.0 * ci[1].get<double>()); };
  if (report.contains("harmful")) {
    const auto& h = report["harmful"];
    out += fmt::format("{:<20} {:>8} {:>9} {:>9}\n", "harmful prompts", "prompts", "refusal", "toxicity");
    for (const auto& [c, v] : h["categories"].items())
      out += fmt::format("  {:<18} {:>8} {:>9} {:>9}\n", c, v["prompts"].get<int64_t>(), pct(v["refusal_rate"]),
                         v.contains("toxicity_rate") ? pct(v["toxicity_rate"]) : "-");
    out += fmt::format("  {:<18} {:>8} {:>9} {:>9}\n", "all", h["prompts"].get<int64_t>(), pct(h["refusal_rate"]),
                       h.contains("toxicity_rate") ? pct(h["toxicity_rate"]) : "-");
    out += fmt::format("  95% interval (Wilson): refusal {}{}\n", span(h["refusal_rate_ci"]),
                       h.contains("toxicity_rate_ci") ? ", toxicity " + span(h["toxicity_rate_ci"]) : "");
  }
  if (report.contains("benign"))
    out += fmt::format("{:<20} {:>8} over-refusal {} (95% interval {})\n", "benign prompts", report["benign"]["prompts"].get<int64_t>(),
                       pct(report["benign"]["over_refusal_rate"]), span(report["benign"]["over_refusal_rate_ci"]));
  if (report.contains("validation")) {
    const auto& v = report["validation"];
    out += fmt::format("{:<20} CE {:.4f}  perplexity {:.3f}  ({} tokens)", "validation", v["ce"].get<double>(),
                       v["ppl"].get<double>(), v["tokens"].get<int64_t>());
    if (v.contains("exact_match"))
      out += fmt::format("  exact match {} of {}", pct(v["exact_match"]), v["exact_match_examples"].get<int64_t>());
    out += "\n";
  }
  return out;
}

}  // namespace st
