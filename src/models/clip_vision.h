#pragma once
// CLIP vision transformer (HF CLIPVisionModel): patch conv without bias, class + position
// embeddings, pre_layrnorm, pre-LN encoder blocks with quick_gelu, post_layernorm pooler on CLS.
#include <torch/torch.h>

#include "io/hf_config.h"
#include "models/layers.h"
#include "models/vision_tower.h"

namespace vista::models {

class ClipAttentionImpl : public torch::nn::Module {
 public:
  explicit ClipAttentionImpl(const io::VisionConfig& config);
  torch::Tensor forward(const torch::Tensor& x_BND);
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, out_proj{nullptr};

 private:
  int64_t num_heads_, head_dim_;
};
TORCH_MODULE(ClipAttention);

class ClipMLPImpl : public torch::nn::Module {
 public:
  explicit ClipMLPImpl(const io::VisionConfig& config);
  torch::Tensor forward(const torch::Tensor& x_BND);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

 private:
  std::string act_;
};
TORCH_MODULE(ClipMLP);

class ClipEncoderLayerImpl : public torch::nn::Module {
 public:
  explicit ClipEncoderLayerImpl(const io::VisionConfig& config);
  torch::Tensor forward(const torch::Tensor& x_BND);
  ClipAttention self_attn{nullptr};
  torch::nn::LayerNorm layer_norm1{nullptr}, layer_norm2{nullptr};
  ClipMLP mlp{nullptr};
};
TORCH_MODULE(ClipEncoderLayer);

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
