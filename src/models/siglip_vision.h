#pragma once
// SigLIP vision transformer (HF SiglipVisionModel): patch conv with bias, no class token, no
// pre-norm; last_hidden_state = post_layernorm(output of the last block); pooler = attention
// pooling head (a learned probe attends over the tokens, then a residual MLP).
#include <torch/torch.h>

#include "models/clip_vision.h"
#include "models/vision_tower.h"

namespace vista::models {

class SiglipEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit SiglipEmbeddingsImpl(const io::VisionConfig& config);
  torch::Tensor forward(const torch::Tensor& pixels_BCHW);
  torch::nn::Conv2d patch_embedding{nullptr};
  torch::nn::Embedding position_embedding{nullptr};
};
TORCH_MODULE(SiglipEmbeddings);

// nn.MultiheadAttention parameters as PyTorch names them (packed in_proj_weight [3D, D]).
class PoolingAttentionImpl : public torch::nn::Module {
 public:
  explicit PoolingAttentionImpl(const io::VisionConfig& config);
  torch::Tensor forward(const torch::Tensor& query_BQD, const torch::Tensor& x_BND);
  torch::Tensor in_proj_weight, in_proj_bias;
  torch::nn::Linear out_proj{nullptr};

 private:
  int64_t num_heads_;
};
TORCH_MODULE(PoolingAttention);

class SiglipPoolingHeadImpl : public torch::nn::Module {
 public:
  explicit SiglipPoolingHeadImpl(const io::VisionConfig& config);
  torch::Tensor forward(const torch::Tensor& x_BND);
  torch::Tensor probe;
  PoolingAttention attention{nullptr};
  torch::nn::LayerNorm layernorm{nullptr};
  VitMLP mlp{nullptr};
};
TORCH_MODULE(SiglipPoolingHead);

class SiglipEncoderImpl : public torch::nn::Module {
 public:
  explicit SiglipEncoderImpl(const io::VisionConfig& config);
  torch::nn::ModuleList layers{nullptr};
};
TORCH_MODULE(SiglipEncoder);

class SiglipVisionTransformerImpl : public torch::nn::Module {
 public:
  explicit SiglipVisionTransformerImpl(const io::VisionConfig& config);
  SiglipEmbeddings embeddings{nullptr};
  SiglipEncoder encoder{nullptr};
  torch::nn::LayerNorm post_layernorm{nullptr};
  SiglipPoolingHead head{nullptr};
};
TORCH_MODULE(SiglipVisionTransformer);

class SiglipVisionModelImpl : public VisionTower {
 public:
  explicit SiglipVisionModelImpl(const io::VisionConfig& config);
  VisionOutput forward(const torch::Tensor& pixels_BCHW, const HiddenStateObserver& observer = nullptr) override;
  torch::Tensor hidden_state(const torch::Tensor& pixels_BCHW, int64_t index) override;
  const io::VisionConfig& config() const override { return config_; }
  SiglipVisionTransformer vision_model{nullptr};

 private:
  io::VisionConfig config_;
};
TORCH_MODULE(SiglipVisionModel);

}  // namespace vista::models
