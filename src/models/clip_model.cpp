#include "models/clip_model.h"

#include <cmath>

#include "models/weight_loading.h"

namespace vista::models {

ClipModelImpl::ClipModelImpl(const io::ClipModelConfig& c) : config_(c) {
  text_model = register_module("text_model", ClipTextTransformer(c.text));
  vision_model = register_module("vision_model", ClipVisionTransformer(c.vision));
  visual_projection =
      register_module("visual_projection",
                      torch::nn::Linear(torch::nn::LinearOptions(c.vision.hidden_size, c.projection_dim).bias(false)));
  text_projection = register_module(
      "text_projection", torch::nn::Linear(torch::nn::LinearOptions(c.text.hidden_size, c.projection_dim).bias(false)));
  logit_scale = register_parameter("logit_scale", torch::tensor(std::log(1 / 0.07)));
}

namespace {
torch::Tensor l2_normalised(const torch::Tensor& x) { return x / x.norm(2, -1, true); }
}  // namespace

torch::Tensor ClipModelImpl::text_embeds(const torch::Tensor& input_ids_QS, const torch::Tensor& attention_mask_QS) {
  return l2_normalised(text_projection->forward(text_model->forward(input_ids_QS, attention_mask_QS).pooled_QD));
}

ClipModelImpl::ImageOutputs ClipModelImpl::image_outputs(const torch::Tensor& pixels_BCHW) {
  const auto last_BND = vision_model->encode(pixels_BCHW, config_.vision.num_hidden_layers, nullptr);
  const auto normed_BND = vision_model->post_layernorm->forward(last_BND);
  ImageOutputs out;
  // HF pools post_layernorm(CLS); layer norm is per token, so its row 0 of the normed tokens.
  out.image_embeds_BP = l2_normalised(visual_projection->forward(normed_BND.select(1, 0)));
  out.patch_embeds_BNP = visual_projection->forward(normed_BND.narrow(1, 1, normed_BND.size(1) - 1));
  return out;
}

torch::Tensor ClipModelImpl::image_embeds(const torch::Tensor& pixels_BCHW) {
  return image_outputs(pixels_BCHW).image_embeds_BP;
}

torch::Tensor ClipModelImpl::patch_embeds(const torch::Tensor& pixels_BCHW) {
  return image_outputs(pixels_BCHW).patch_embeds_BNP;
}

torch::Tensor ClipModelImpl::logits_per_image(const torch::Tensor& image_embeds_BP,
                                              const torch::Tensor& text_embeds_QP) {
  return logit_scale.exp() * torch::matmul(image_embeds_BP, text_embeds_QP.t());
}

ClipModel load_clip_model(const std::string& dir, torch::Device device, torch::ScalarType dtype) {
  ClipModel model(io::parse_clip_model_config(io::read_config(dir)));
  load_strict(*model, CheckpointReader::open(dir), CheckpointLayout{});
  model->to(device, dtype);
  return model;
}

}  // namespace vista::models
