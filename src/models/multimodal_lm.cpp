#include "models/multimodal_lm.h"

#include <optional>

#include "util/error.h"

namespace vista::models {

MultimodalLMImpl::MultimodalLMImpl(const io::LlavaConfig& config, const io::VisionConfig& vision_config)
    : config_(config) {
  if (vision_config.hidden_size != config.mm.mm_hidden_size)
    fail("multimodal config: mm_hidden_size {} does not match the vision tower's hidden_size {}",
         config.mm.mm_hidden_size, vision_config.hidden_size);
  vision_tower = register_module("vision_tower", make_vision_tower(vision_config));
  projector = register_module("projector", Projector(config.mm.mm_projector_type, config.mm.mm_hidden_size,
                                                     config.text.hidden_size));
  language_model = register_module("language_model", make_causal_lm(config.text));
}

torch::Tensor MultimodalLMImpl::selected_vision_features(const torch::Tensor& pixels_BCHW) {
  std::optional<torch::NoGradGuard> no_grad;
  if (vision_frozen_) no_grad.emplace();
  auto hidden_BND = vision_tower->hidden_state(pixels_BCHW, config_.mm.mm_vision_select_layer);
  // 'patch' drops token 0: CLIP's CLS, and for SigLIP (no CLS) the first patch, exactly as
  // TinyLLaVA does (docs/method.md §1).
  if (config_.mm.mm_vision_select_feature == "patch") hidden_BND = hidden_BND.narrow(1, 1, hidden_BND.size(1) - 1);
  return hidden_BND;
}

torch::Tensor MultimodalLMImpl::encode_images(const torch::Tensor& pixels_BCHW) {
  auto features = selected_vision_features(pixels_BCHW);
  return projector->forward(features.to(projector->parameters()[0].scalar_type()));
}

SplicedBatch MultimodalLMImpl::prepare_inputs(const torch::Tensor& input_ids_BL, const torch::Tensor& attention_mask_BL,
                                              const torch::Tensor& labels_BL, const torch::Tensor& image_features_KND) {
  SpliceInputs in;
  in.input_ids_BL = config_.mm.image_token_index == kImageTokenIndex
                        ? input_ids_BL
                        : input_ids_BL.masked_fill(input_ids_BL == config_.mm.image_token_index, kImageTokenIndex);
  in.attention_mask_BL = attention_mask_BL;
  in.labels_BL = labels_BL;
  in.token_embeds_BLD = language_model->embed(in.input_ids_BL.clamp_min(0));
  in.image_features_KND = image_features_KND;
  in.max_length = config_.mm.tokenizer_model_max_length;
  return splice_multimodal(in);
}

torch::Tensor MultimodalLMImpl::hidden(const SplicedBatch& batch, const HiddenStateObserver& observer) {
  return language_model->hidden(batch.inputs_embeds_BTD, batch.attention_mask_BT, batch.position_ids_BT, observer);
}

torch::Tensor MultimodalLMImpl::hidden_at(const SplicedBatch& batch, const torch::Tensor& output_positions_BN) {
  return language_model->hidden_at(batch.inputs_embeds_BTD, batch.attention_mask_BT, batch.position_ids_BT,
                                   output_positions_BN);
}

}  // namespace vista::models
