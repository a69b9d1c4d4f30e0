#pragma once
// A LLaVA-style model: vision tower -> feature selection -> projector -> splice into a decoder
// LLM. The same assembly serves official LLaVA, llava-hf and TinyLLaVA checkpoints; only the
// checkpoint layout and the config file differ (see model_loading.h).
#include <torch/torch.h>

#include <memory>

#include "io/hf_config.h"
#include "models/causal_lm.h"
#include "models/multimodal_splice.h"
#include "models/projector.h"
#include "models/vision_tower.h"

namespace vista::models {

class MultimodalLMImpl : public torch::nn::Module {
 public:
  MultimodalLMImpl(const io::LlavaConfig& config, const io::VisionConfig& vision_config);

  // Vision features per mm_vision_select_layer / mm_vision_select_feature: [B, N, D_vision].
  // The tower runs without autograd while vision_frozen() (its usual state).
  torch::Tensor selected_vision_features(const torch::Tensor& pixels_BCHW);
  // Projected features [B, N, D_llm].
  torch::Tensor encode_images(const torch::Tensor& pixels_BCHW);

  // input_ids may mark images with config.mm.image_token_index (llava-hf) or -200.
  SplicedBatch prepare_inputs(const torch::Tensor& input_ids_BL, const torch::Tensor& attention_mask_BL,
                              const torch::Tensor& labels_BL, const torch::Tensor& image_features_KND);

  torch::Tensor hidden(const SplicedBatch& batch, const HiddenStateObserver& observer = nullptr);
  // The final-norm hidden states at output_positions_BN only, [B, N, D] (CausalLM::hidden_at).
  torch::Tensor hidden_at(const SplicedBatch& batch, const torch::Tensor& output_positions_BN);
  torch::Tensor logits(const torch::Tensor& hidden_BTD) { return language_model->logits(hidden_BTD); }

  bool vision_frozen() const { return vision_frozen_; }
  void set_vision_frozen(bool frozen) { vision_frozen_ = frozen; }
  const io::LlavaConfig& config() const { return config_; }
  // How inputs are prepared for this model (image aspect mode "pad" / "square", token limit),
  // recorded in every saved config: training sets what it trained with.
  void set_preprocessing(const std::string& image_aspect_ratio, int64_t tokenizer_model_max_length) {
    config_.mm.image_aspect_ratio = image_aspect_ratio;
    config_.mm.tokenizer_model_max_length = tokenizer_model_max_length;
  }
  const io::VisionConfig& vision_config() const { return vision_tower->config(); }

  std::shared_ptr<VisionTower> vision_tower;
  Projector projector{nullptr};
  std::shared_ptr<CausalLM> language_model;

 private:
  io::LlavaConfig config_;
  bool vision_frozen_ = true;
};
TORCH_MODULE(MultimodalLM);

}  // namespace vista::models
