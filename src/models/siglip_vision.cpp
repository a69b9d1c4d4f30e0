#include "models/siglip_vision.h"

#include <cmath>

#include "util/error.h"

namespace vista::models {

SiglipEmbeddingsImpl::SiglipEmbeddingsImpl(const io::VisionConfig& c) {
  patch_embedding = register_module(
      "patch_embedding",
      torch::nn::Conv2d(torch::nn::Conv2dOptions(c.num_channels, c.hidden_size, c.patch_size).stride(c.patch_size)));
  position_embedding = register_module("position_embedding", torch::nn::Embedding(c.num_patches(), c.hidden_size));
}

torch::Tensor SiglipEmbeddingsImpl::forward(const torch::Tensor& pixels_BCHW) {
  const auto dtype = patch_embedding->weight.scalar_type();
  auto patches_BND = patch_embedding->forward(pixels_BCHW.to(dtype)).flatten(2).transpose(1, 2);
  if (patches_BND.size(1) != position_embedding->weight.size(0))
    fail("SigLIP vision: input {}x{} gives {} patches but the position table has {} (image_size mismatch)",
         pixels_BCHW.size(2), pixels_BCHW.size(3), patches_BND.size(1), position_embedding->weight.size(0));
  return patches_BND + position_embedding->weight.unsqueeze(0);
}

PoolingAttentionImpl::PoolingAttentionImpl(const io::VisionConfig& c) : num_heads_(c.num_attention_heads) {
  in_proj_weight = register_parameter("in_proj_weight", torch::empty({3 * c.hidden_size, c.hidden_size}));
  in_proj_bias = register_parameter("in_proj_bias", torch::zeros({3 * c.hidden_size}));
  out_proj = register_module("out_proj", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

// torch.nn.MultiheadAttention's eval-with-grad path: packed projections, q scaled before q k^T.
torch::Tensor PoolingAttentionImpl::forward(const torch::Tensor& query_BQD, const torch::Tensor& x_BND) {
  namespace F = torch::nn::functional;
  const auto D = x_BND.size(2), b = x_BND.size(0), n = x_BND.size(1), nq = query_BQD.size(1);
  const auto hd = D / num_heads_;
  const auto w = in_proj_weight.split(D), bias = in_proj_bias.split(D);
  auto q = F::linear(query_BQD, w[0], bias[0]).view({b, nq, num_heads_, hd}).transpose(1, 2);
  auto k = F::linear(x_BND, w[1], bias[1]).view({b, n, num_heads_, hd}).transpose(1, 2);
  auto v = F::linear(x_BND, w[2], bias[2]).view({b, n, num_heads_, hd}).transpose(1, 2);
  q = q / std::sqrt(static_cast<double>(hd));
  auto probs = torch::softmax(torch::matmul(q, k.transpose(2, 3)), -1);
  auto out = torch::matmul(probs, v).transpose(1, 2).contiguous().view({b, nq, D});
  return out_proj->forward(out);
}

SiglipPoolingHeadImpl::SiglipPoolingHeadImpl(const io::VisionConfig& c) {
  probe = register_parameter("probe", torch::randn({1, 1, c.hidden_size}));
  attention = register_module("attention", PoolingAttention(c));
  layernorm = register_module("layernorm", layer_norm(c.hidden_size, c.layer_norm_eps));
  mlp = register_module("mlp", VitMLP(c));
}

torch::Tensor SiglipPoolingHeadImpl::forward(const torch::Tensor& x_BND) {
  const auto probe_B1D = probe.expand({x_BND.size(0), 1, probe.size(2)});
  auto h = attention->forward(probe_B1D, x_BND);
  h = h + mlp->forward(layernorm->forward(h));
  return h.select(1, 0);
}

SiglipEncoderImpl::SiglipEncoderImpl(const io::VisionConfig& c) {
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) layers->push_back(VitEncoderLayer(c, VitAttentionStyle::kSiglip));
}

SiglipVisionTransformerImpl::SiglipVisionTransformerImpl(const io::VisionConfig& c) {
  embeddings = register_module("embeddings", SiglipEmbeddings(c));
  encoder = register_module("encoder", SiglipEncoder(c));
  post_layernorm = register_module("post_layernorm", layer_norm(c.hidden_size, c.layer_norm_eps));
  head = register_module("head", SiglipPoolingHead(c));
}

SiglipVisionModelImpl::SiglipVisionModelImpl(const io::VisionConfig& c) : config_(c) {
  vision_model = register_module("vision_model", SiglipVisionTransformer(c));
}

namespace {
torch::Tensor run_layers(SiglipVisionTransformerImpl& vm, const torch::Tensor& pixels_BCHW, int64_t num_layers,
                         const HiddenStateObserver& observer) {
  auto h = vm.embeddings->forward(pixels_BCHW);
  if (observer) observer(0, h);
  for (int64_t i = 0; i < num_layers; ++i) {
    h = vm.encoder->layers->ptr(i)->as<VitEncoderLayerImpl>()->forward(h);
    if (observer) observer(i + 1, h);
  }
  return h;
}
}  // namespace

VisionOutput SiglipVisionModelImpl::forward(const torch::Tensor& pixels_BCHW, const HiddenStateObserver& observer) {
  VisionOutput out;
  const auto h = run_layers(*vision_model, pixels_BCHW, config_.num_hidden_layers, observer);
  out.last_hidden_state_BND = vision_model->post_layernorm->forward(h);
  out.pooled_BD = vision_model->head->forward(out.last_hidden_state_BND);
  return out;
}

torch::Tensor SiglipVisionModelImpl::hidden_state(const torch::Tensor& pixels_BCHW, int64_t index) {
  return run_layers(*vision_model, pixels_BCHW, resolve_hidden_index(index, config_.num_hidden_layers, "SigLIP vision"),
                    nullptr);
}

}  // namespace vista::models
