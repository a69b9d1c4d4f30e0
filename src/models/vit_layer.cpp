#include "models/vit_layer.h"

#include <cmath>

#include "models/blocked_attention.h"
#include "models/layers.h"
#include "models/split_linear.h"
#include "runtime/torch_compat.h"

namespace vista::models {

namespace {

// Every query row sees every key: the block kernel's rows in near-equal blocks of at most 64, so
// that a block's scores stay in cache between its two products.
std::vector<QueryBlock> all_key_blocks(int64_t rows, int64_t keys) {
  constexpr int64_t kMostRows = 64;
  const int64_t count = (rows + kMostRows - 1) / kMostRows;
  std::vector<QueryBlock> blocks;
  for (int64_t i = 0, first = 0; i < count; ++i) {
    const int64_t end = rows * (i + 1) / count;
    blocks.push_back({first, end - first, keys});
    first = end;
  }
  return blocks;
}

// The unmasked core on float32 CPU operands (the vision towers'), where the block kernel computes
// it in one pass per row instead of libtorch's [B, H, N, N] scores, softmax and two batched products.
bool block_kernel_takes(const torch::Tensor& q_BHND, const torch::Tensor& mask_B1NN) {
  return !mask_B1NN.defined() && q_BHND.scalar_type() == torch::kFloat32 && q_BHND.device().is_cpu() &&
         q_BHND.size(2) > 0 && !compat::autocast_enabled(c10::DeviceType::CPU);
}

}  // namespace

VitAttentionImpl::VitAttentionImpl(const io::VisionConfig& c, VitAttentionStyle style)
    : num_heads_(c.num_attention_heads), head_dim_(c.hidden_size / c.num_attention_heads), style_(style) {
  // Registration order is HF's (k, v, q, out): it fixes the order of random initialisation.
  k_proj = register_module("k_proj", torch::nn::Linear(c.hidden_size, c.hidden_size));
  v_proj = register_module("v_proj", torch::nn::Linear(c.hidden_size, c.hidden_size));
  q_proj = register_module("q_proj", torch::nn::Linear(c.hidden_size, c.hidden_size));
  out_proj = register_module("out_proj", torch::nn::Linear(c.hidden_size, c.hidden_size));
}

torch::Tensor VitAttentionImpl::forward(const torch::Tensor& x_BND, const torch::Tensor& mask_B1NN) {
  const auto b = x_BND.size(0), n = x_BND.size(1);
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim_));
  const auto project = [&](const torch::nn::Linear& l, const torch::Tensor& t) {
    return split_linear(t, l->weight, l->bias);
  };
  auto heads = [&](const torch::Tensor& t) { return t.view({b, n, num_heads_, head_dim_}).transpose(1, 2); };
  // q, k, v in this order, each as HF computes it: the same arithmetic, allocation for allocation.
  const auto q = heads(style_ == VitAttentionStyle::kClip ? project(q_proj, x_BND) * scale : project(q_proj, x_BND));
  const auto k = heads(project(k_proj, x_BND)), v = heads(project(v_proj, x_BND));
  if (block_kernel_takes(q, mask_B1NN)) {
    // CLIP's q is scaled already; SigLIP's scores are multiplied by the scale, here divided by its
    // inverse (the same float where the head width is a power of 4, as 64 is).
    const double divisor = style_ == VitAttentionStyle::kClip ? 1.0 : 1.0 / scale;
    const auto zero_mask = torch::zeros({1, 1, n, n}, q.options());
    const auto out_BHND = blocked_attention(q, k, v, zero_mask, divisor, all_key_blocks(n, n));
    return project(out_proj, out_BHND.transpose(1, 2).reshape({b, n, num_heads_ * head_dim_}));
  }
  auto scores = style_ == VitAttentionStyle::kClip ? torch::matmul(q, k.transpose(2, 3))
                                                   : torch::matmul(q, k.transpose(2, 3)) * scale;
  if (mask_B1NN.defined()) scores = scores + mask_B1NN;
  const auto probs = style_ == VitAttentionStyle::kClip
                         ? torch::softmax(scores, -1)
                         : torch::softmax(scores, -1, torch::kFloat32).to(q.scalar_type());
  const auto out = torch::matmul(probs, v).transpose(1, 2).contiguous().view({b, n, num_heads_ * head_dim_});
  return project(out_proj, out);
}

VitMLPImpl::VitMLPImpl(const io::VisionConfig& c) : act_(c.hidden_act) {
  fc1 = register_module("fc1", torch::nn::Linear(c.hidden_size, c.intermediate_size));
  fc2 = register_module("fc2", torch::nn::Linear(c.intermediate_size, c.hidden_size));
}

torch::Tensor VitMLPImpl::forward(const torch::Tensor& x_BND) {
  const auto hidden = split_linear(x_BND, fc1->weight, fc1->bias);
  return split_linear(activation(act_, hidden), fc2->weight, fc2->bias);
}

VitEncoderLayerImpl::VitEncoderLayerImpl(const io::VisionConfig& c, VitAttentionStyle style) {
  self_attn = register_module("self_attn", VitAttention(c, style));
  layer_norm1 = register_module("layer_norm1", layer_norm(c.hidden_size, c.layer_norm_eps));
  mlp = register_module("mlp", VitMLP(c));
  layer_norm2 = register_module("layer_norm2", layer_norm(c.hidden_size, c.layer_norm_eps));
}

torch::Tensor VitEncoderLayerImpl::forward(const torch::Tensor& x_BND, const torch::Tensor& mask_B1NN) {
  const auto h = x_BND + self_attn->forward(layer_norm1->forward(x_BND), mask_B1NN);
  return h + mlp->forward(layer_norm2->forward(h));
}

}  // namespace vista::models
