#include "models/clip_vision.h"

#include <cmath>

#include "util/error.h"

namespace vista::models {

ClipEncoderImpl::ClipEncoderImpl(const io::VisionConfig& c) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layers->push_back(VitEncoderLayer(c, VitAttentionStyle::kClip));
}

ClipEmbeddingsImpl::ClipEmbeddingsImpl(const io::VisionConfig& c) {
  class_embedding = register_parameter("class_embedding", torch::randn({c.hidden_size}));
  patch_embedding = register_module(
      "patch_embedding",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(c.num_channels, c.hidden_size, c.patch_size)
                            .stride(c.patch_size)
                            .bias(false)));
  position_embedding = register_module("position_embedding", torch::nn::Embedding(c.num_patches() + 1, c.hidden_size));
}

torch::Tensor ClipEmbeddingsImpl::forward(const torch::Tensor& pixels_BCHW) {
  const auto dtype = patch_embedding->weight.scalar_type();
  auto patches_BDgg = patch_embedding->forward(pixels_BCHW.to(dtype));
  auto patches_BND = patches_BDgg.flatten(2).transpose(1, 2);
  const auto b = pixels_BCHW.size(0);
  const int64_t expected = position_embedding->weight.size(0) - 1;
  if (patches_BND.size(1) != expected)
    fail("CLIP vision: input {}x{} gives {} patches but the position table has {} (image_size mismatch)",
         pixels_BCHW.size(2), pixels_BCHW.size(3), patches_BND.size(1), expected);
  auto cls_B1D = class_embedding.view({1, 1, -1}).expand({b, 1, class_embedding.size(0)});
  auto tokens = torch::cat({cls_B1D, patches_BND}, 1);
  return tokens + position_embedding->weight.unsqueeze(0);
}

ClipVisionTransformerImpl::ClipVisionTransformerImpl(const io::VisionConfig& c) {
  embeddings = register_module("embeddings", ClipEmbeddings(c));
  pre_layrnorm = register_module("pre_layrnorm", layer_norm(c.hidden_size, c.layer_norm_eps));
  encoder = register_module("encoder", ClipEncoder(c));
  post_layernorm = register_module("post_layernorm", layer_norm(c.hidden_size, c.layer_norm_eps));
}

ClipVisionModelImpl::ClipVisionModelImpl(const io::VisionConfig& c) : config_(c) {
  vision_model = register_module("vision_model", ClipVisionTransformer(c));
}

torch::Tensor ClipVisionTransformerImpl::encode(const torch::Tensor& pixels_BCHW, int64_t num_layers,
                                                const HiddenStateObserver& observer) {
  auto h = pre_layrnorm->forward(embeddings->forward(pixels_BCHW));
  if (observer) observer(0, h);
  for (int64_t i = 0; i < num_layers; ++i) {
    h = encoder->layers->ptr(i)->as<VitEncoderLayerImpl>()->forward(h);
    if (observer) observer(i + 1, h);
  }
  return h;
}

VisionOutput ClipVisionModelImpl::forward(const torch::Tensor& pixels_BCHW, const HiddenStateObserver& observer) {
  VisionOutput out;
  out.last_hidden_state_BND = vision_model->encode(pixels_BCHW, config_.num_hidden_layers, observer);
  out.pooled_BD = vision_model->post_layernorm->forward(out.last_hidden_state_BND.select(1, 0));
  return out;
}

torch::Tensor ClipVisionModelImpl::hidden_state(const torch::Tensor& pixels_BCHW, int64_t index) {
  return vision_model->encode(pixels_BCHW, resolve_hidden_index(index, config_.num_hidden_layers, "CLIP vision"),
                              nullptr);
}

}  // namespace vista::models
