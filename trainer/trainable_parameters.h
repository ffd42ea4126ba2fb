// trainer/trainable_parameters.h — which parameters a run trains: the seam where adapters (LoRA) attach.
// A selection may change the model (wrap layers, freeze the base) before it names what the optimizer,
// clipping and checkpoints see. The default trains every parameter.
#pragma once

#include <memory>
#include <string>

#include "models/llama.h"
#include "models/safetensors.h"

namespace st {

class TrainableParameters {
 public:
  virtual ~TrainableParameters() = default;
  virtual std::string name() const = 0;
  // Prepares `model` and returns the parameters to train, by name, in a fixed order.
  virtual NamedTensors select(LlamaForCausalLM& model) = 0;
};

class AllParameters : public TrainableParameters {
 public:
  std::string name() const override { return "all"; }
  NamedTensors select(LlamaForCausalLM& model) override {
    NamedTensors params;
    for (auto& item : model->named_parameters()) params.emplace_back(item.key(), item.value());
    return params;
  }
};

}  // namespace st
