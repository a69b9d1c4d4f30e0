#include "models/clip_vision.h"

#include <cmath>

#include "util/error.h"

namespace vista::models {

ClipAttentionImpl::ClipAttentionImpl(const io::VisionConfig& c)
    : num_heads_(c.num_attention_heads), head_dim_(c.hidden_size / c.num_attention_heads) {
  k_proj = register_module("k_proj", torch::nn::Linear(c.hidden_size, c.hidden_size));
  v_proj = register_module("v_proj", torch::nn::Linear(c.hidden_size, c.hidden_size));
  q_proj = register_module("q_proj", torch::nn::Linear(c.hidden_size, c.hidden_size));
  out_proj = register_module("out_proj", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

torch::Tensor ClipAttentionImpl::forward(const torch::Tensor& x_BND) {
  const auto b = x_BND.size(0), n = x_BND.size(1);
  // CLIP scales q before the product (unlike LLaMA, which divides the scores).
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim_));
  auto q = (q_proj->forward(x_BND) * scale).view({b, n, num_heads_, head_dim_}).transpose(1, 2);
  auto k = k_proj->forward(x_BND).view({b, n, num_heads_, head_dim_}).transpose(1, 2);
  auto v = v_proj->forward(x_BND).view({b, n, num_heads_, head_dim_}).transpose(1, 2);
  auto probs = torch::softmax(torch::matmul(q, k.transpose(2, 3)), -1);
  auto out = torch::matmul(probs, v).transpose(1, 2).contiguous().view({b, n, num_heads_ * head_dim_});
  return out_proj->forward(out);
}

ClipMLPImpl::ClipMLPImpl(const io::VisionConfig& c) : act_(c.hidden_act) {
  fc1 = register_module("fc1", torch::nn::Linear(c.hidden_size, c.intermediate_size));
  fc2 = register_module("fc2", torch::nn::Linear(c.intermediate_size, c.hidden_size));
}

torch::Tensor ClipMLPImpl::forward(const torch::Tensor& x_BND) {
  return fc2->forward(activation(act_, fc1->forward(x_BND)));
}

ClipEncoderLayerImpl::ClipEncoderLayerImpl(const io::VisionConfig& c) {
  self_attn = register_module("self_attn", ClipAttention(c));
  layer_norm1 = register_module("layer_norm1", layer_norm(c.hidden_size, c.layer_norm_eps));
  mlp = register_module("mlp", ClipMLP(c));
  layer_norm2 = register_module("layer_norm2", layer_norm(c.hidden_size, c.layer_norm_eps));
}

torch::Tensor ClipEncoderLayerImpl::forward(const torch::Tensor& x_BND) {
  auto h = x_BND + self_attn->forward(layer_norm1->forward(x_BND));
  return h + mlp->forward(layer_norm2->forward(h));
}

ClipEncoderImpl::ClipEncoderImpl(const io::VisionConfig& c) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layers->push_back(ClipEncoderLayer(c));
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

namespace {
// Runs embeddings + the first num_layers blocks, reporting every hidden state to the observer.
torch::Tensor run_layers(ClipVisionTransformerImpl& vm, const torch::Tensor& pixels_BCHW, int64_t num_layers,
                         const HiddenStateObserver& observer) {
  auto h = vm.pre_layrnorm->forward(vm.embeddings->forward(pixels_BCHW));
  if (observer) observer(0, h);
  for (int64_t i = 0; i < num_layers; ++i) {
    h = vm.encoder->layers->ptr(i)->as<ClipEncoderLayerImpl>()->forward(h);
    if (observer) observer(i + 1, h);
  }
  return h;
}
}  // namespace

VisionOutput ClipVisionModelImpl::forward(const torch::Tensor& pixels_BCHW, const HiddenStateObserver& observer) {
  VisionOutput out;
  out.last_hidden_state_BND = run_layers(*vision_model, pixels_BCHW, config_.num_hidden_layers, observer);
  out.pooled_BD = vision_model->post_layernorm->forward(out.last_hidden_state_BND.select(1, 0));
  return out;
}

torch::Tensor ClipVisionModelImpl::hidden_state(const torch::Tensor& pixels_BCHW, int64_t index) {
  return run_layers(*vision_model, pixels_BCHW, resolve_hidden_index(index, config_.num_hidden_layers, "CLIP vision"),
                    nullptr);
}

}  // namespace vista::models
