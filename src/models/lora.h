#pragma once
// LoRA on a model's AdaptedLinear layers, chosen by module-path patterns; merging adapters into
// plain weights. Only the LLM's projections are AdaptedLinear, so a pattern can never put an
// adapter on the vision tower or the projector; a pattern that would is an error.
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace vista::models {

struct LoraOptions {
  int64_t r = 8;
  double alpha = 16;
  double dropout = 0.0;
  // ECMAScript regular expressions matched against whole module paths
  // ("language_model.model.layers.0.self_attn.q_proj").
  std::vector<std::string> targets = {
      R"(language_model\..*\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj|dense|fc1|fc2))"};
};

// Adds an adapter to every AdaptedLinear whose path matches a target; returns the paths. Errors
// name a pattern that matches nothing or matches a layer that cannot carry an adapter.
std::vector<std::string> add_lora_adapters(torch::nn::Module& model, const LoraOptions& options);

// "<path>.lora_A" / "<path>.lora_B".
bool is_lora_parameter(const std::string& name);

// W += alpha / r * B A for every adapter in `adapters` (named as the model's parameters), in
// float32 math (float64 for float64 weights), into a model without adapters.
void merge_lora_adapters(torch::nn::Module& model, const std::map<std::string, torch::Tensor>& adapters,
                         const LoraOptions& options);

}  // namespace vista::models
