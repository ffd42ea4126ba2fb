// trainer/trainable_parameters.h — which parameters a run trains, and how their weights are written to and
// read from checkpoints and final/: the seam where adapters (LoRA, trainer/lora_parameters.h) attach.
// The default trains every parameter and saves whole model folders.
#pragma once

#include <memory>
#include <string>

#include "models/llama.h"
#include "models/model_folder.h"
#include "models/safetensors.h"
#include "trainer/run_config.h"

namespace st {

class TrainableParameters {
 public:
  virtual ~TrainableParameters() = default;
  virtual std::string name() const = 0;
  // What it trains, for the run's "trainable:" line ("every weight", "LoRA r=16 alpha=32 ..."), and what
  // final/ holds, for its last line.
  virtual std::string describe() const = 0;
  virtual std::string saved_as() const = 0;
  // Prepares `model` (attach adapters, freeze and cast the base) and returns the parameters to train, by
  // name, in a fixed order: what the optimizer, clipping and checkpoints see.
  virtual NamedTensors select(LlamaForCausalLM& model) = 0;
  // Writes the trained weights into `dir` (a checkpoint, or final/) with the tokenizer files; `options.dtype`
  // is the dtype of whole-model weights.
  virtual void save(const std::string& dir, LlamaForCausalLM& model, const SaveOptions& options) const = 0;
  // Reads back what save() wrote (exit 2 naming the file and tensor when it does not fit this run).
  virtual void load(const std::string& dir, LlamaForCausalLM& model) const = 0;
  // The file that holds the weights in a saved folder: a checkpoint's COMPLETE must list it.
  virtual std::string weights_file() const = 0;
};

class AllParameters : public TrainableParameters {
 public:
  std::string name() const override { return "all"; }
  std::string describe() const override { return "every weight"; }
  std::string saved_as() const override { return "weights"; }
  NamedTensors select(LlamaForCausalLM& model) override;
  void save(const std::string& dir, LlamaForCausalLM& model, const SaveOptions& options) const override;
  void load(const std::string& dir, LlamaForCausalLM& model) const override;
  std::string weights_file() const override { return "model.safetensors"; }
};

// What `config` asks for: LoRA adapters when lora.enabled, else every parameter. `base_sha256` identifies
// the base model's weights, which adapter checkpoints record and resume checks.
std::unique_ptr<TrainableParameters> make_trainable_parameters(const RunConfig& config, const std::string& base_sha256);

}  // namespace st
