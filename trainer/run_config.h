// trainer/run_config.h — the configs as typed values: what `safetune train`, `eval` and `train-classifier`
// read after trainer/config.cpp has checked a file against its schema. Members are named as the keys
// (train.max_steps is RunConfig::train.max_steps) and each is bound to its key in the schema table
// (trainer/config_schema.cpp), which alone holds the defaults, ranges and help: a key is declared once.
// Choices are enums whose names live in one EnumNames table each.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/check.h"
#include "data/examples.h"

namespace st {

// The names of an enum's values as the config writes them, in the order `config defaults` lists them.
template <typename E>
struct EnumNames;  // specialised below: static constexpr std::pair<const char*, E> values[]

template <typename E>
const char* enum_name(E value) {
  for (const auto& [name, v] : EnumNames<E>::values)
    if (v == value) return name;
  return "?";
}

// The value named `name`, or exit 2 naming `what` and the valid names.
template <typename E>
E enum_from_name(const std::string& name, const std::string& what) {
  std::string valid;
  for (const auto& [n, v] : EnumNames<E>::values) {
    if (name == n) return v;
    valid += (valid.empty() ? "" : ", ") + std::string(n);
  }
  fail_input("{}: expected one of {}, got '{}'", what, valid, name);
}

enum class DeviceChoice { Auto, Cpu, Cuda };
enum class DistributedBackend { Auto, Gloo, Nccl };
enum class SaveDtype { Float32, BFloat16, Float16 };
enum class BaseDtype { Float32, BFloat16 };
enum class ChunkedLoss { Auto, On, Off };
enum class OnNonfinite { Skip, Stop };
enum class ScheduleType { Linear, Cosine, Constant };
enum class BestMetric { None, ValCe, ExactMatch, HarmfulRefusalRate, HarmfulToxicityRate, BenignOverRefusalRate };
enum class GateAction { IncreaseLambda, Stop };
enum class GateNoise { Interval, None };
enum class RefusalRule { Cues, StartPhrases, Judge };
enum class ProgressMode { Auto, Always, Never };
enum class EstimatorKind { Soft, Sampled };
enum class PenalizedRows { All, Task, SafetyMix };
enum class MixStrategy { Random, Stratified, Prototype, Similar };

#define ST_ENUM_NAMES(E, ...)                                      \
  template <>                                                      \
  struct EnumNames<E> {                                            \
    static constexpr std::pair<const char*, E> values[] = {__VA_ARGS__}; \
  }
ST_ENUM_NAMES(DeviceChoice, {"auto", DeviceChoice::Auto}, {"cpu", DeviceChoice::Cpu}, {"cuda", DeviceChoice::Cuda});
ST_ENUM_NAMES(DistributedBackend, {"auto", DistributedBackend::Auto}, {"gloo", DistributedBackend::Gloo},
              {"nccl", DistributedBackend::Nccl});
ST_ENUM_NAMES(SaveDtype, {"float32", SaveDtype::Float32}, {"bfloat16", SaveDtype::BFloat16}, {"float16", SaveDtype::Float16});
ST_ENUM_NAMES(BaseDtype, {"float32", BaseDtype::Float32}, {"bfloat16", BaseDtype::BFloat16});
ST_ENUM_NAMES(ChunkedLoss, {"auto", ChunkedLoss::Auto}, {"on", ChunkedLoss::On}, {"off", ChunkedLoss::Off});
ST_ENUM_NAMES(OnNonfinite, {"skip", OnNonfinite::Skip}, {"stop", OnNonfinite::Stop});
ST_ENUM_NAMES(ScheduleType, {"linear", ScheduleType::Linear}, {"cosine", ScheduleType::Cosine},
              {"constant", ScheduleType::Constant});
ST_ENUM_NAMES(BestMetric, {"none", BestMetric::None}, {"val_ce", BestMetric::ValCe}, {"exact_match", BestMetric::ExactMatch},
              {"harmful_refusal_rate", BestMetric::HarmfulRefusalRate},
              {"harmful_toxicity_rate", BestMetric::HarmfulToxicityRate},
              {"benign_over_refusal_rate", BestMetric::BenignOverRefusalRate});
ST_ENUM_NAMES(GateAction, {"increase_lambda", GateAction::IncreaseLambda}, {"stop", GateAction::Stop});
ST_ENUM_NAMES(GateNoise, {"interval", GateNoise::Interval}, {"none", GateNoise::None});
ST_ENUM_NAMES(RefusalRule, {"cues", RefusalRule::Cues}, {"start_phrases", RefusalRule::StartPhrases}, {"judge", RefusalRule::Judge});
ST_ENUM_NAMES(ProgressMode, {"auto", ProgressMode::Auto}, {"always", ProgressMode::Always}, {"never", ProgressMode::Never});
ST_ENUM_NAMES(EstimatorKind, {"soft", EstimatorKind::Soft}, {"sampled", EstimatorKind::Sampled});
ST_ENUM_NAMES(PenalizedRows, {"all", PenalizedRows::All}, {"task", PenalizedRows::Task},
              {"safety_mix", PenalizedRows::SafetyMix});
ST_ENUM_NAMES(MixStrategy, {"random", MixStrategy::Random}, {"stratified", MixStrategy::Stratified},
              {"prototype", MixStrategy::Prototype}, {"similar", MixStrategy::Similar});
ST_ENUM_NAMES(Truncation, {"truncate", Truncation::Truncate}, {"drop", Truncation::Drop});
ST_ENUM_NAMES(OnBadLine, {"error", OnBadLine::Error}, {"skip", OnBadLine::Skip});
#undef ST_ENUM_NAMES

// An LM read as a classifier (trainer/eval/lm_judge.h): eval.judge (refusal) and safety.harm_judge (harm).
struct JudgeConfig {
  std::string model, prompt_template;
  std::vector<std::string> labels;  // [the word for "yes" (refuses / harmful), the word for "no"]
};

// `safetune train` (and `eval`, which reads the same keys with nothing required).
struct RunConfig {
  struct Model {
    std::string path;
    DeviceChoice device;
    SaveDtype save_dtype;
  } model;
  struct Data {
    std::vector<std::string> train, validation;
    DataOptions options;  // format, template, system_prompt, max_seq_len, truncation, on_bad_line
    bool group_by_length, packing;
    std::string cache;  // auto | off | a folder
    double cache_max_gb;  // the cache folder's size limit (GiB); 0 = none
    int64_t tokenize_threads;
  } data;
  struct Train {
    std::string output_dir;
    int64_t max_steps, seed, batch_size, grad_accum, stop_at_step, max_consecutive_skips, distributed_timeout_s;
    double max_grad_norm;
    ChunkedLoss chunked_loss;
    bool activation_checkpointing, shard_optimizer;
    OnNonfinite on_nonfinite;
    DistributedBackend distributed_backend;
  } train;
  struct Lora {
    bool enabled;
    int64_t r;
    double alpha, dropout;
    std::vector<std::string> target_modules;  // projection names, or "all-linear"
    std::vector<int64_t> layers_to_transform;  // decoder layer indices; empty = every layer
    bool use_rslora;
    BaseDtype base_dtype;
  } lora;
  struct Optim {
    double lr, weight_decay, beta1, beta2, eps;
  } optim;
  struct Schedule {
    ScheduleType type;
    int64_t warmup_steps;
    double min_lr_ratio;
  } schedule;
  struct Checkpoint {
    int64_t every_steps, keep_last;
  } checkpoint;
  struct Eval {
    int64_t every_steps, batch_size, max_new_tokens, exact_match_examples;
    bool at_start;
    std::string harmful, benign;
    RefusalRule refusal_rule;
    std::vector<std::string> refusal_phrases;
    JudgeConfig judge;  // refusal_rule=judge
    BestMetric best_metric;
  } eval;
  struct Gate {
    bool enabled;
    double max_refusal_drop, max_toxicity_rate, lambda_factor;
    GateAction action;
    GateNoise noise;
    int64_t max_incidents;
  } gate;
  struct Log {
    int64_t every_steps;
    ProgressMode progress;
    bool tensorboard;
  } log;
  struct Safety {
    std::string classifier;
    JudgeConfig harm_judge;  // a frozen harm scorer read as text: eval's toxicity, and the sampled penalty's without a classifier
    EstimatorKind estimator;
    double temperature;
    struct Sample {
      double temperature, baseline_momentum;
      int64_t max_new_tokens;
    } sample;
    nlohmann::json lambda;  // a number or a schedule object: LambdaController reads it
    PenalizedRows penalize;
    struct Mix {
      std::string pool;
      MixStrategy strategy;
      nlohmann::json budget;  // a count or "P%": budget_count() turns it into a count
      std::vector<std::string> behaviors, categories;
      int64_t per_batch, centroid_examples;
      double ratio, loss_weight;
    } mix;
  } safety;

  std::string source;  // the config file (or label), for messages
};

// `safetune train-classifier`.
struct ClassifierRunConfig {
  struct Classifier {
    std::string tokenizer, architecture;
  } classifier;
  struct Data {
    std::vector<std::string> train;
    double validation_fraction;
    int64_t max_seq_len;
    OnBadLine on_bad_line;
  } data;
  struct Train {
    std::string output_dir;
    int64_t max_steps, batch_size, seed;
    double max_grad_norm;
  } train;
  struct Optim {
    double lr, weight_decay;
  } optim;
  struct Schedule {
    int64_t warmup_steps;
  } schedule;
  struct Eval {
    double target_fpr;
  } eval;
  struct Log {
    int64_t every_steps;
  } log;

  std::string source;
};

// A safety.mix.budget value (a count, or "P%" of the task examples) as a count of examples, at least 1.
int64_t budget_count(const nlohmann::json& budget, int64_t task_examples);

}  // namespace st
