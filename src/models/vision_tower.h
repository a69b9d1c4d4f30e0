#pragma once
// What the multimodal assembly needs from a vision tower (CLIP, SigLIP).
#include <torch/torch.h>

#include "io/hf_config.h"
#include "models/layers.h"

namespace vista::models {

struct VisionOutput {
  torch::Tensor last_hidden_state_BND;  // HF last_hidden_state (CLIP: un-normed; SigLIP: post_layernorm)
  torch::Tensor pooled_BD;              // HF pooler_output
};

class VisionTower : public torch::nn::Module {
 public:
  virtual VisionOutput forward(const torch::Tensor& pixels_BCHW, const HiddenStateObserver& observer = nullptr) = 0;
  // hidden_states[index] (HF indexing; negative counts from the end of the L+1 list), running only
  // the layers needed to produce it.
  virtual torch::Tensor hidden_state(const torch::Tensor& pixels_BCHW, int64_t index) = 0;
  virtual const io::VisionConfig& config() const = 0;
};

std::shared_ptr<VisionTower> make_vision_tower(const io::VisionConfig& config);

// Resolves an HF hidden-state index against num_layers + 1 entries; throws when out of range.
int64_t resolve_hidden_index(int64_t index, int64_t num_layers, const char* model_name);

}  // namespace vista::models
