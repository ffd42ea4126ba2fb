// trainer/config_schema.cpp — the schema tables: every key of `train` (and `eval`) and of
// `train-classifier`, each declared once with its type, default, range, choices, help, whether it is
// locked on resume, and the typed member it fills (trainer/run_config.h).
#include "trainer/config.h"

#include <type_traits>

#include "models/lora_adapter.h"
#include "trainer/eval/lm_judge.h"
#include "trainer/eval/refusal.h"

namespace st {
using json = nlohmann::json;

namespace {

// What `value` (already checked against its key) sets in a typed config.
void assign(int64_t& out, const json& v) { out = v.get<int64_t>(); }
void assign(double& out, const json& v) { out = v.get<double>(); }
void assign(bool& out, const json& v) { out = v.get<bool>(); }
void assign(std::string& out, const json& v) { out = v.get<std::string>(); }
void assign(std::vector<std::string>& out, const json& v) { out = v.get<std::vector<std::string>>(); }
void assign(std::vector<int64_t>& out, const json& v) { out = v.get<std::vector<int64_t>>(); }
void assign(json& out, const json& v) { out = v; }
template <typename E, typename = std::enable_if_t<std::is_enum_v<E>>>
void assign(E& out, const json& v) {
  out = enum_from_name<E>(v.get<std::string>(), "internal: a checked choice");
}

// A key's path and its member, written once: ST_FIELD(RunConfig, train.max_steps) is the key
// "train.max_steps" bound to RunConfig::train.max_steps.
#define ST_FIELD(Root, member) ST_FIELD_AS(Root, #member, member)
#define ST_FIELD_AS(Root, path, member) \
  path, typeid(Root), [](void* root) -> auto& { return static_cast<Root*>(root)->member; }

template <typename Get>
using MemberOf = std::remove_reference_t<decltype(std::declval<Get>()(nullptr))>;

template <typename Get>
ConfigKey key(std::string path, const std::type_info& root, Get get, KeyType type, json def, std::string help) {
  ConfigKey k;
  k.path = std::move(path);
  k.type = type;
  k.default_value = std::move(def);
  k.help = std::move(help);
  k.root = &root;
  k.bind = [get](void* target, const json& v) { assign(get(target), v); };
  return k;
}
ConfigKey ranged(ConfigKey k, std::optional<double> min, std::optional<double> max = std::nullopt, bool max_exclusive = false) {
  k.min = min;
  k.max = max;
  k.max_exclusive = max_exclusive;
  return k;
}

// Upper bounds on sizes and counts: far above any real run, low enough that no product of them
// overflows or allocates without bound, and a typo (an extra few zeros) is refused instead of hanging.
constexpr double kMaxSteps = 1e9;
constexpr double kMaxBatch = 4096;
constexpr double kMaxSeqLen = 1 << 20;
constexpr double kMaxExamples = 1e8;
constexpr double kMaxLayers = 4096;  // decoder layers; the model's own count is checked when adapters attach
constexpr double kMaxSeed = 9007199254740991.0;  // 2^53 - 1: every seed a JSON number holds exactly
// A choice bound to an enum: the names come from its EnumNames table.
template <typename Get>
ConfigKey choice(std::string path, const std::type_info& root, Get get, std::string def, std::string help) {
  using E = MemberOf<Get>;
  static_assert(std::is_enum_v<E>, "a choice without a list of names must be bound to an enum");
  ConfigKey k = key(std::move(path), root, get, KeyType::Choice, def, std::move(help));
  for (const auto& [name, value] : EnumNames<E>::values) k.choices.emplace_back(name);
  return k;
}
// A choice bound to a string the data readers interpret.
template <typename Get>
ConfigKey choice(std::string path, const std::type_info& root, Get get, std::vector<std::string> choices, std::string def,
                 std::string help) {
  ConfigKey k = key(std::move(path), root, get, KeyType::Choice, def, std::move(help));
  k.choices = std::move(choices);
  return k;
}
ConfigKey string_choices(ConfigKey k, std::vector<std::string> choices) {
  k.choices = std::move(choices);
  return k;
}
ConfigKey above_min(ConfigKey k) {
  k.min_exclusive = true;
  return k;
}
ConfigKey locked(ConfigKey k) {
  k.locked_on_resume = true;
  return k;
}
ConfigKey role(ConfigKey k, PathRole r) {
  k.path_role = r;
  return k;
}
ConfigKey input_file(ConfigKey k) { return role(std::move(k), PathRole::InputFile); }
ConfigKey input_folder(ConfigKey k) { return role(std::move(k), PathRole::InputFolder); }
ConfigKey input_file_or_folder(ConfigKey k) { return role(std::move(k), PathRole::InputFileOrFolder); }
ConfigKey output(ConfigKey k) { return role(std::move(k), PathRole::Output); }

std::vector<ConfigKey> build_run_schema() {
  const json required = nullptr;
  return {
      // model
      locked(input_folder(key(ST_FIELD(RunConfig, model.path), KeyType::Path, required,
                 "Hugging Face model folder to fine-tune: config.json, safetensors, tokenizer files (tokenizer.model)"))),
      choice(ST_FIELD(RunConfig, model.device), "auto", "where to train; auto = cuda when available"),
      choice(ST_FIELD(RunConfig, model.save_dtype), "float32", "dtype of the weights written to final/"),
      // data
      locked(input_file(key(ST_FIELD(RunConfig, data.train), KeyType::PathList, required, "training JSONL file(s)"))),
      locked(input_file(key(ST_FIELD(RunConfig, data.validation), KeyType::PathList, json::array(), "validation JSONL file(s) for validation CE"))),
      locked(choice(ST_FIELD_AS(RunConfig, "data.format", data.options.format), {"auto", "prompt_completion", "chat", "text"}, "auto",
                    "record format; auto detects it per line from the keys present")),
      locked(choice(ST_FIELD_AS(RunConfig, "data.template", data.options.chat_template), {"auto", "llama2", "llama3", "chatml", "mistral", "plain"}, "auto",
                    "chat template around prompts and responses; auto = the family of the model folder's chat_template "
                    "(llama2 when it has none); see README")),
      locked(key(ST_FIELD_AS(RunConfig, "data.system_prompt", data.options.system_prompt), KeyType::String, "", "system prompt added to prompts without one")),
      locked(ranged(key(ST_FIELD_AS(RunConfig, "data.max_seq_len", data.options.max_seq_len), KeyType::Int, 512, "tokens per example, template included"), 8, kMaxSeqLen)),
      locked(choice(ST_FIELD_AS(RunConfig, "data.truncation", data.options.truncation), "truncate",
                    "overlong examples: cut the end (counted) or drop them (counted)")),
      locked(choice(ST_FIELD_AS(RunConfig, "data.on_bad_line", data.options.on_bad_line), "error",
                    "malformed JSONL line: stop with file:line, or skip it and count it in the manifest")),
      locked(key(ST_FIELD(RunConfig, data.group_by_length), KeyType::Bool, true, "batch examples of similar length to cut padding")),
      locked(key(ST_FIELD(RunConfig, data.packing), KeyType::Bool, false,
                 "pack each micro-batch's examples into rows of max_seq_len (first-fit decreasing), attention kept "
                 "within each example: less padding, the same loss and penalty")),
      string_choices(key(ST_FIELD(RunConfig, data.cache), KeyType::Path, "auto",
                         "token cache folder: auto = $SAFETUNE_CACHE_DIR, else $XDG_CACHE_HOME/safetune/tokens, else "
                         "~/.cache/safetune/tokens; off = tokenize at every start"),
                     {"auto", "off"}),
      ranged(key(ST_FIELD(RunConfig, data.cache_max_gb), KeyType::Number, 20.0,
                 "the token cache folder's size limit in GiB: after a run writes a cache file, the least recently used "
                 "others are removed until the folder fits (a run that wants one tokenizes again); 0 = no limit"), 0),
      ranged(key(ST_FIELD(RunConfig, data.tokenize_threads), KeyType::Int, 0, "threads that tokenize the data; 0 = every core (the result is the same)"), 0, 1024),
      // train
      output(key(ST_FIELD(RunConfig, train.output_dir), KeyType::Path, required, "run folder: config, manifest, metrics, checkpoints, final/")),
      ranged(key(ST_FIELD(RunConfig, train.max_steps), KeyType::Int, required, "optimizer steps to train"), 1, kMaxSteps),
      locked(ranged(key(ST_FIELD(RunConfig, train.seed), KeyType::Int, 0, "seed for shuffling and every random choice"), 0, kMaxSeed)),
      locked(ranged(key(ST_FIELD(RunConfig, train.batch_size), KeyType::Int, 8, "examples per micro-batch"), 1, kMaxBatch)),
      ranged(key(ST_FIELD(RunConfig, train.grad_accum), KeyType::Int, 1,
                 "micro-batches per optimizer step and process; a resume keeps processes × grad_accum"), 1, kMaxBatch),
      ranged(key(ST_FIELD(RunConfig, train.max_grad_norm), KeyType::Number, 1.0, "gradient clipping norm; 0 disables"), 0),
      ranged(key(ST_FIELD(RunConfig, train.stop_at_step), KeyType::Int, 0,
                 "stop cleanly after this step as if signalled (checkpoint, exit 75), e.g. for a job's time "
                 "limit; 0 = never"), 0, kMaxSteps),
      choice(ST_FIELD(RunConfig, train.chunked_loss), "auto",
             "CE and the soft penalty's expected embeddings from hidden states, 1024 positions at a time and only "
             "where a label is, never building the full [B, T, V] logits; auto = on"),
      key(ST_FIELD(RunConfig, train.activation_checkpointing), KeyType::Bool, false,
          "keep only each decoder layer's input and rerun the layer in the backward: far less activation "
          "memory for about one more forward of compute"),
      choice(ST_FIELD(RunConfig, train.on_nonfinite), "skip",
             "NaN/Inf loss or gradient: skip the update (counted) or stop keeping the last good checkpoint"),
      ranged(key(ST_FIELD(RunConfig, train.max_consecutive_skips), KeyType::Int, 10,
                 "stop (exit 1) when this many updates in a row were skipped as non-finite"), 1, kMaxSteps),
      key(ST_FIELD(RunConfig, train.shard_optimizer), KeyType::Bool, false,
          "data-parallel runs: each process keeps and updates only its slice of the AdamW moments (ZeRO stage "
          "1); their memory per process falls by the process count. Checkpoints hold the whole state either way"),
      ranged(key(ST_FIELD(RunConfig, train.distributed_timeout_s), KeyType::Int, 600,
                 "data-parallel runs (torchrun): how long the rendezvous and each collective wait for the other "
                 "processes before the run fails, rather than hang on a dead or stuck one"), 1, 86400),
      choice(ST_FIELD(RunConfig, train.distributed_backend), "auto",
             "data-parallel runs: the c10d process group; auto = nccl when the run trains on CUDA (one GPU per "
             "local rank), gloo on CPU. gloo on CUDA stages tensors through host memory"),
      // lora: adapters on a frozen base
      locked(key(ST_FIELD(RunConfig, lora.enabled), KeyType::Bool, false,
                 "train LoRA adapters on the frozen base instead of every weight; final/ is a PEFT adapter folder")),
      locked(ranged(key(ST_FIELD(RunConfig, lora.r), KeyType::Int, 16, "LoRA rank"), 1, 4096)),
      locked(above_min(ranged(key(ST_FIELD(RunConfig, lora.alpha), KeyType::Number, 16.0,
                                  "LoRA alpha: the adapter's output is scaled by alpha / r (alpha / sqrt(r) with use_rslora)"), 0, 1e6))),
      locked(ranged(key(ST_FIELD(RunConfig, lora.dropout), KeyType::Number, 0.0,
                        "dropout on each adapter's input while training, masks drawn from the run's RNG"), 0, 1, /*max_exclusive=*/true)),
      locked(string_choices(key(ST_FIELD(RunConfig, lora.target_modules), KeyType::StringList, json::array({"all-linear"}),
                                "projections that get adapters: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, "
                                "down_proj, or all-linear (every one of them)"), lora_target_names())),
      locked(ranged(key(ST_FIELD(RunConfig, lora.layers_to_transform), KeyType::IntList, json::array(),
                        "decoder layers (0-based) whose projections get adapters, as PEFT's layers_to_transform; "
                        "empty = every layer"), 0, kMaxLayers)),
      locked(key(ST_FIELD(RunConfig, lora.use_rslora), KeyType::Bool, false, "scale by alpha / sqrt(r) (rank-stabilised LoRA)")),
      locked(choice(ST_FIELD(RunConfig, lora.base_dtype), "float32",
                    "dtype the frozen base weights are kept in; adapters and their optimizer state stay float32")),
      // optim
      ranged(key(ST_FIELD(RunConfig, optim.lr), KeyType::Number, 5e-5, "peak learning rate (AdamW)"), 0),
      ranged(key(ST_FIELD(RunConfig, optim.weight_decay), KeyType::Number, 0.0, "decoupled weight decay, on weight matrices only (not norms or biases)"), 0),
      ranged(key(ST_FIELD(RunConfig, optim.beta1), KeyType::Number, 0.9, "AdamW beta1"), 0, 1, /*max_exclusive=*/true),
      ranged(key(ST_FIELD(RunConfig, optim.beta2), KeyType::Number, 0.999, "AdamW beta2"), 0, 1, /*max_exclusive=*/true),
      ranged(key(ST_FIELD(RunConfig, optim.eps), KeyType::Number, 1e-8, "AdamW epsilon (> 0: a parameter whose gradient is always 0 would otherwise divide 0 by 0)"), 1e-30, 1),
      // schedule
      choice(ST_FIELD(RunConfig, schedule.type), "linear", "LR decay after warmup"),
      ranged(key(ST_FIELD(RunConfig, schedule.warmup_steps), KeyType::Int, 0, "steps of linear warmup from 0"), 0, kMaxSteps),
      ranged(key(ST_FIELD(RunConfig, schedule.min_lr_ratio), KeyType::Number, 0.0, "final LR as a fraction of optim.lr"), 0, 1),
      // checkpoint
      ranged(key(ST_FIELD(RunConfig, checkpoint.every_steps), KeyType::Int, 500, "checkpoint interval in steps; 0 = only at the end"), 0, kMaxSteps),
      ranged(key(ST_FIELD(RunConfig, checkpoint.keep_last), KeyType::Int, 3, "newest checkpoints kept"), 1, 1000),
      // eval
      ranged(key(ST_FIELD(RunConfig, eval.every_steps), KeyType::Int, 0, "evaluation interval in steps (validation and eval prompts); 0 = only at the end"), 0, kMaxSteps),
      key(ST_FIELD(RunConfig, eval.at_start), KeyType::Bool, true,
          "also evaluate the base model at step 0, before any update (the report's base point; the safety gate always does)"),
      ranged(key(ST_FIELD(RunConfig, eval.batch_size), KeyType::Int, 8, "examples per validation or generation batch"), 1, kMaxBatch),
      input_file(key(ST_FIELD(RunConfig, eval.harmful), KeyType::Path, "",
          "harmful prompts JSONL {prompt, category}: refusal and toxicity rates of greedy generations")),
      input_file(key(ST_FIELD(RunConfig, eval.benign), KeyType::Path, "", "benign prompts JSONL {prompt, category?}: over-refusal rate")),
      ranged(key(ST_FIELD(RunConfig, eval.max_new_tokens), KeyType::Int, 48, "generation length for evaluation prompts"), 1, kMaxSeqLen),
      ranged(key(ST_FIELD(RunConfig, eval.exact_match_examples), KeyType::Int, 100,
                 "validation examples with one response scored by greedy exact match; 0 = off"), 0, kMaxExamples),
      choice(ST_FIELD(RunConfig, eval.refusal_rule), "cues",
             "how a response is judged a refusal: cues = a declining statement in its first three sentences outside "
             "quotes (README: precision 0.98, recall 0.81 on the labelled corpus's test split); start_phrases = it "
             "opens with one of eval.refusal_phrases; judge = ask the LM in eval.judge.model"),
      key(ST_FIELD(RunConfig, eval.refusal_phrases), KeyType::StringList, default_refusal_phrases(),
          "refusal_rule=start_phrases: a response starting with one of these (case-insensitive, whole words) is a refusal"),
      input_folder(key(ST_FIELD_AS(RunConfig, "eval.judge.model", eval.judge.model), KeyType::Path, "",
          "refusal_rule=judge: a causal LM folder (any model safetune loads) asked whether each response refuses; "
          "its answer's probability is read from the next-token logits, no sampling")),
      key(ST_FIELD_AS(RunConfig, "eval.judge.template", eval.judge.prompt_template), KeyType::String, default_judge_template(),
          "refusal_rule=judge: the question put to the judge as a user message in its own chat template; {prompt} "
          "and {response} are replaced by the evaluated prompt and response"),
      key(ST_FIELD_AS(RunConfig, "eval.judge.labels", eval.judge.labels), KeyType::StringList, json::array({"yes", "no"}),
          "refusal_rule=judge: the two answers, [refuses, does not]; the judge's score is the first's probability "
          "renormalised over both (each compared by its first token)"),
      // logging
      choice(ST_FIELD(RunConfig, eval.best_metric), "none",
             "keep the checkpoint with the best value of this evaluation metric beside the newest ones (checkpoints/best)"),
      // gate: the safety gate
      key(ST_FIELD(RunConfig, gate.enabled), KeyType::Bool, false,
          "check every evaluation against the thresholds below (needs eval.harmful and eval.every_steps)"),
      ranged(key(ST_FIELD(RunConfig, gate.max_refusal_drop), KeyType::Number, 0.1,
                 "harmful refusal rate may fall at most this much (0.1 = 10 points) below the step-0 evaluation"), 0, 1),
      ranged(key(ST_FIELD(RunConfig, gate.max_toxicity_rate), KeyType::Number, 0.2, "harmful toxicity rate may not exceed this (needs safety.classifier or safety.harm_judge)"), 0, 1),
      choice(ST_FIELD(RunConfig, gate.noise), "interval",
             "interval: an incident only when the rate's 95% Wilson interval lies wholly past the threshold (the "
             "refusal interval's top below the allowed floor, the toxicity interval's bottom above the cap), so a few "
             "prompts' wobble trips nothing; none: compare the measured rates themselves"),
      choice(ST_FIELD(RunConfig, gate.action), "increase_lambda",
             "on an incident: restore the last passing checkpoint and multiply λ, or stop (exit 1)"),
      ranged(key(ST_FIELD(RunConfig, gate.lambda_factor), KeyType::Number, 2.0, "λ multiplier per incident"), 1),
      ranged(key(ST_FIELD(RunConfig, gate.max_incidents), KeyType::Int, 3, "incidents after which the run stops anyway"), 1, 1000),
      ranged(key(ST_FIELD(RunConfig, log.every_steps), KeyType::Int, 10, "steps between metrics.jsonl lines"), 1, kMaxSteps),
      choice(ST_FIELD(RunConfig, log.progress), "auto", "live progress line; auto = when stderr is a terminal"),
      key(ST_FIELD(RunConfig, log.tensorboard), KeyType::Bool, true,
          "also write every metric (and sample generations at each evaluation) as TensorBoard event files in "
          "RUN/tensorboard; tensorboard --logdir RUN/tensorboard"),
      // safety
      locked(input_folder(key(ST_FIELD(RunConfig, safety.classifier), KeyType::Path, "",
                 "toxicity classifier folder (safetune train-classifier); empty = no penalty"))),
      locked(input_folder(key(ST_FIELD_AS(RunConfig, "safety.harm_judge.model", safety.harm_judge.model), KeyType::Path, "",
          "an LM asked whether each response is harmful (any causal LM folder safetune loads, or a LoRA run's final/): "
          "scores evaluations' toxicity instead of the classifier, and is the sampled penalty's scorer when no "
          "safety.classifier is set; empty = none"))),
      locked(key(ST_FIELD_AS(RunConfig, "safety.harm_judge.template", safety.harm_judge.prompt_template), KeyType::String,
          default_harm_judge_template(), "the question put to the harm judge as a user message in its own chat template; "
          "{prompt} and {response} are replaced by the prompt and the response")),
      locked(key(ST_FIELD_AS(RunConfig, "safety.harm_judge.labels", safety.harm_judge.labels), KeyType::StringList,
          json::array({"yes", "no"}), "the harm judge's two answers, [harmful, not]; P(harmful) is the first's "
          "probability renormalised over both")),
      locked(choice(ST_FIELD(RunConfig, safety.estimator), "soft",
                    "penalty estimator: soft = expected embeddings through the classifier (needs its vocabulary); "
                    "sampled = REINFORCE on sampled continuations scored as text (any classifier)")),
      locked(ranged(key(ST_FIELD(RunConfig, safety.temperature), KeyType::Number, 1.0, "τ in softmax(logits / τ) for the soft penalty"), 1e-3)),
      locked(ranged(key(ST_FIELD(RunConfig, safety.sample.temperature), KeyType::Number, 1.0, "sampled: sampling temperature"), 1e-3)),
      locked(ranged(key(ST_FIELD(RunConfig, safety.sample.max_new_tokens), KeyType::Int, 32, "sampled: tokens per sampled continuation"), 1, kMaxSeqLen)),
      locked(ranged(key(ST_FIELD(RunConfig, safety.sample.baseline_momentum), KeyType::Number, 0.9,
                        "sampled: running-mean baseline b <- m·b + (1-m)·(step's mean penalty)"), 0, 1)),
      key(ST_FIELD(RunConfig, safety.lambda), KeyType::Lambda, 0.0,
          "λ in CE + λ·penalty: a number, or {type: constant|linear_warmup|schedule|adaptive, ...} (see README)"),
      choice(ST_FIELD(RunConfig, safety.penalize), "all",
             "which examples of a batch the penalty scores: every one, task rows only, or safety-mix rows only"),
      // safety.mix: refusal mixing from a safety pool
      locked(input_file(key(ST_FIELD(RunConfig, safety.mix.pool), KeyType::Path, "",
                 "safety pool JSONL {prompt, response, category, behavior}; empty = no mixing"))),
      locked(choice(ST_FIELD(RunConfig, safety.mix.strategy), "stratified",
                    "how the subset is chosen (README, \"Refusal mixing\")")),
      locked(key(ST_FIELD(RunConfig, safety.mix.budget), KeyType::Budget, "1%",
                 "subset size: a count, or \"P%\" of the task examples (rounded, at least 1)")),
      locked(key(ST_FIELD(RunConfig, safety.mix.behaviors), KeyType::StringList, json::array({"refusal"}),
                 "behaviour filter before selection; [] = every behaviour")),
      locked(key(ST_FIELD(RunConfig, safety.mix.categories), KeyType::StringList, json::array(),
                 "harm categories to draw from; [] = every category in the pool")),
      locked(ranged(key(ST_FIELD(RunConfig, safety.mix.per_batch), KeyType::Int, 2, "safety examples added to every micro-batch"), 0, kMaxBatch)),
      locked(ranged(key(ST_FIELD(RunConfig, safety.mix.ratio), KeyType::Number, 0.0,
                        "instead of per_batch: safety examples per task example (round(ratio x batch_size), at least 1)"), 0, 4)),
      ranged(key(ST_FIELD(RunConfig, safety.mix.loss_weight), KeyType::Number, 1.0, "CE weight of safety examples relative to task examples"), 0),
      locked(ranged(key(ST_FIELD(RunConfig, safety.mix.centroid_examples), KeyType::Int, 1024,
                        "task examples (a seeded sample) whose embeddings form the centroid for strategy similar"), 1, kMaxExamples)),
  };
}

// safetune train-classifier: a toxicity classifier on the language model's tokenizer.
std::vector<ConfigKey> build_classifier_schema() {
  const json required = nullptr;
  return {
      input_file_or_folder(key(ST_FIELD(ClassifierRunConfig, classifier.tokenizer), KeyType::Path, required,
          "model folder (or its tokenizer.model) whose vocabulary the classifier will share (the soft penalty needs the same vocabulary)")),
      input_file(key(ST_FIELD(ClassifierRunConfig, classifier.architecture), KeyType::Path, required,
          "JSON with the encoder's Llama dimensions (hidden_size, num_hidden_layers, ...; vocab_size = tokenizer pieces)")),
      input_file(key(ST_FIELD(ClassifierRunConfig, data.train), KeyType::PathList, required, "labelled JSONL: {\"text\", \"label\": 0|1, \"category\"?}")),
      ranged(key(ST_FIELD(ClassifierRunConfig, data.validation_fraction), KeyType::Number, 0.2, "share of examples held out for validation"), 0.01, 0.9),
      ranged(key(ST_FIELD(ClassifierRunConfig, data.max_seq_len), KeyType::Int, 128, "tokens per text (longer ones are cut, counted)"), 4, kMaxSeqLen),
      choice(ST_FIELD(ClassifierRunConfig, data.on_bad_line), "error", "malformed line: stop with file:line, or skip and count it"),
      output(key(ST_FIELD(ClassifierRunConfig, train.output_dir), KeyType::Path, required, "classifier folder to write")),
      ranged(key(ST_FIELD(ClassifierRunConfig, train.max_steps), KeyType::Int, 300, "optimizer steps"), 1, kMaxSteps),
      ranged(key(ST_FIELD(ClassifierRunConfig, train.batch_size), KeyType::Int, 32, "texts per step"), 1, kMaxBatch),
      ranged(key(ST_FIELD(ClassifierRunConfig, train.seed), KeyType::Int, 0, "seed for the split, shuffling and initialisation"), 0, kMaxSeed),
      ranged(key(ST_FIELD(ClassifierRunConfig, train.max_grad_norm), KeyType::Number, 1.0, "gradient clipping norm; 0 disables"), 0),
      ranged(key(ST_FIELD(ClassifierRunConfig, optim.lr), KeyType::Number, 1e-3, "peak learning rate (AdamW)"), 0),
      ranged(key(ST_FIELD(ClassifierRunConfig, optim.weight_decay), KeyType::Number, 0.01, "decoupled weight decay on weight matrices"), 0),
      ranged(key(ST_FIELD(ClassifierRunConfig, schedule.warmup_steps), KeyType::Int, 20, "steps of linear warmup"), 0, kMaxSteps),
      ranged(key(ST_FIELD(ClassifierRunConfig, eval.target_fpr), KeyType::Number, 0.05,
                 "false-positive rate at which the decision threshold is chosen on the validation split"), 0, 1),
      ranged(key(ST_FIELD(ClassifierRunConfig, log.every_steps), KeyType::Int, 50, "steps between progress lines"), 1, kMaxSteps),
  };
}

}  // namespace

const Schema& config_schema() {
  static const Schema schema = build_run_schema();
  return schema;
}

const Schema& classifier_config_schema() {
  static const Schema schema = build_classifier_schema();
  return schema;
}

const Schema& eval_config_schema() {
  // The training schema with nothing required: `safetune eval` reads a run's own config or a short file
  // with only the eval keys, and ignores what only training uses.
  static const Schema schema = [] {
    Schema s = build_run_schema();
    for (auto& k : s)
      if (k.default_value.is_null()) k.default_value = k.type == KeyType::PathList ? json::array() : k.type == KeyType::Int ? json(1) : json("");
    return s;
  }();
  return schema;
}

}  // namespace st
