#pragma once
// CLIP vision transformer (HF CLIPVisionModel): patch conv without bias, class + position
// embeddings, pre_layrnorm, pre-LN encoder blocks with quick_gelu, post_layernorm pooler on CLS.
#include <torch/torch.h>

#include "io/hf_config.h"
#include "models/layers.h"
#include "models/vision_tower.h"
#include "models/vit_layer.h"

namespace vista::models {

class ClipEncoderImpl : public torch::nn::Module {
 public:
  explicit ClipEncoderImpl(const io::VisionConfig& config);
  torch::nn::ModuleList layers{nullptr};
};
TORCH_MODULE(ClipEncoder);

class ClipEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit ClipEmbeddingsImpl(const io::VisionConfig& config);
  torch::Tensor forward(const torch::Tensor& pixels_BCHW);
  torch::Tensor class_embedding;
  torch::nn::Conv2d patch_embedding{nullptr};
  torch::nn::Embedding position_embedding{nullptr};
};
TORCH_MODULE(ClipEmbeddings);

class ClipVisionTransformerImpl : public torch::nn::Module {
 public:
  explicit ClipVisionTransformerImpl(const io::VisionConfig& config);
  // Embeddings, pre_layrnorm and the first num_layers blocks (un-normed output, as HF's
  // hidden_states[num_layers]); every hidden state is reported to the observer.
  torch::Tensor encode(const torch::Tensor& pixels_BCHW, int64_t num_layers, const HiddenStateObserver& observer);
  ClipEmbeddings embeddings{nullptr};
  torch::nn::LayerNorm pre_layrnorm{nullptr};  // sic: the HF key name
  ClipEncoder encoder{nullptr};
  torch::nn::LayerNorm post_layernorm{nullptr};
};
TORCH_MODULE(ClipVisionTransformer);

// HF CLIPVisionModel: the only child is "vision_model", so parameter names equal HF keys.
class ClipVisionModelImpl : public VisionTower {
 public:
  explicit ClipVisionModelImpl(const io::VisionConfig& config);
  VisionOutput forward(const torch::Tensor& pixels_BCHW, const HiddenStateObserver& observer = nullptr) override;
  torch::Tensor hidden_state(const torch::Tensor& pixels_BCHW, int64_t index) override;
  const io::VisionConfig& config() const override { return config_; }

  ClipVisionTransformer vision_model{nullptr};

 private:
  io::VisionConfig config_;
};
TORCH_MODULE(ClipVisionModel);

}  // namespace vista::models
