#pragma once
// HF CLIPModel: both towers, their projections into the joint space and the logit scale. vista
// uses it to label image patches with words (SEA); the vision half is the same tower LLaVA uses.
#include <torch/torch.h>

#include <string>

#include "io/clip_config.h"
#include "models/clip_text.h"
#include "models/clip_vision.h"

namespace vista::models {

class ClipModelImpl : public torch::nn::Module {
 public:
  explicit ClipModelImpl(const io::ClipModelConfig& config);

  // [Q,P] L2-normalised text_projection(pooled text).
  torch::Tensor text_embeds(const torch::Tensor& input_ids_QS, const torch::Tensor& attention_mask_QS = {});
  // [B,P] L2-normalised visual_projection(post_layernorm(CLS)).
  torch::Tensor image_embeds(const torch::Tensor& pixels_BCHW);
  // [B,N,P] visual_projection(post_layernorm(patch tokens)), not normalised (MaskCLIP-style).
  torch::Tensor patch_embeds(const torch::Tensor& pixels_BCHW);
  // Both image outputs from one pass of the tower.
  struct ImageOutputs {
    torch::Tensor image_embeds_BP, patch_embeds_BNP;
  };
  ImageOutputs image_outputs(const torch::Tensor& pixels_BCHW);
  // [B,Q] exp(logit_scale) * image_embeds @ text_embeds^T.
  torch::Tensor logits_per_image(const torch::Tensor& image_embeds_BP, const torch::Tensor& text_embeds_QP);
  const io::ClipModelConfig& config() const { return config_; }

  ClipTextTransformer text_model{nullptr};
  ClipVisionTransformer vision_model{nullptr};
  torch::nn::Linear visual_projection{nullptr}, text_projection{nullptr};
  torch::Tensor logit_scale;

 private:
  io::ClipModelConfig config_;
};
TORCH_MODULE(ClipModel);

// A CLIPModel folder (config.json model_type "clip" + weights), loaded strictly.
ClipModel load_clip_model(const std::string& dir, torch::Device device = torch::kCPU,
                          torch::ScalarType dtype = torch::kFloat32);

}  // namespace vista::models
