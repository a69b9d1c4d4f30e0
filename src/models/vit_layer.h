#pragma once
// The pre-LN transformer block CLIP and SigLIP vision towers share (HF parameter names:
// self_attn.{k,v,q,out}_proj, layer_norm1, mlp.fc1/fc2, layer_norm2). The two differ only in where
// attention applies 1/sqrt(d) and in the softmax precision, which the style selects, so each
// reproduces its HF model's rounding.
#include <torch/torch.h>

#include <string>

#include "io/hf_config.h"

namespace vista::models {

enum class VitAttentionStyle {
  kClip,    // q scaled before q k^T; softmax in the input dtype
  kSiglip,  // scores scaled after q k^T; softmax in float32
};

class VitAttentionImpl : public torch::nn::Module {
 public:
  VitAttentionImpl(const io::VisionConfig& config, VitAttentionStyle style);
  // mask_B1NN: optional additive mask (0 or a large negative), broadcast over heads; the CLIP text
  // tower's causal + padding mask.
  torch::Tensor forward(const torch::Tensor& x_BND, const torch::Tensor& mask_B1NN = {});
  torch::nn::Linear k_proj{nullptr}, v_proj{nullptr}, q_proj{nullptr}, out_proj{nullptr};

 private:
  int64_t num_heads_, head_dim_;
  VitAttentionStyle style_;
};
TORCH_MODULE(VitAttention);

// fc1 -> activation -> fc2.
class VitMLPImpl : public torch::nn::Module {
 public:
  explicit VitMLPImpl(const io::VisionConfig& config);
  torch::Tensor forward(const torch::Tensor& x_BND);
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};

 private:
  std::string act_;
};
TORCH_MODULE(VitMLP);

class VitEncoderLayerImpl : public torch::nn::Module {
 public:
  VitEncoderLayerImpl(const io::VisionConfig& config, VitAttentionStyle style);
  torch::Tensor forward(const torch::Tensor& x_BND, const torch::Tensor& mask_B1NN = {});
  VitAttention self_attn{nullptr};
  torch::nn::LayerNorm layer_norm1{nullptr}, layer_norm2{nullptr};
  VitMLP mlp{nullptr};
};
TORCH_MODULE(VitEncoderLayer);

}  // namespace vista::models
