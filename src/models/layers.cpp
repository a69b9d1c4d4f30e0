#include "models/layers.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <cmath>
#include <limits>

#include "models/checkpointing.h"
#include "models/lean_elementwise.h"
#include "models/rotary_kernel.h"
#include "models/row_dots.h"
#include "models/split_linear.h"
#include "util/error.h"
#include "runtime/torch_compat.h"

namespace vista::models {

std::pair<torch::Tensor, torch::Tensor> LayerCache::append(const torch::Tensor& key_BHTD, const torch::Tensor& value_BHTD) {
  key_BHSD = key_BHSD.defined() ? torch::cat({key_BHSD, key_BHTD}, 2) : key_BHTD;
  value_BHSD = value_BHSD.defined() ? torch::cat({value_BHSD, value_BHTD}, 2) : value_BHTD;
  return {key_BHSD, value_BHSD};
}

RMSNormImpl::RMSNormImpl(int64_t dim, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x_BTD) {
  if (x_BTD.scalar_type() == torch::kFloat32) return rms_norm_float32(x_BTD, weight, eps_);
  const auto input_dtype = x_BTD.scalar_type();
  auto x = x_BTD.to(torch::kFloat32);
  auto variance = x.pow(2).mean(-1, /*keepdim=*/true);
  x = x * torch::rsqrt(variance + eps_);
  return weight * x.to(input_dtype);
}

std::pair<torch::Tensor, std::shared_ptr<RecomputableNorm>> RMSNormImpl::forward_recomputable(
    const torch::Tensor& x_BTD) {
  if (x_BTD.scalar_type() == torch::kFloat32) return rms_norm_float32_recomputable(x_BTD, weight, eps_);
  return {forward(x_BTD), nullptr};
}

RotaryTables rotary_tables(const torch::Tensor& position_ids_BT, int64_t rotary_dim, double theta,
                           torch::ScalarType dtype) {
  const auto opts = torch::TensorOptions().device(position_ids_BT.device());
  auto exponent = torch::arange(0, rotary_dim, 2, opts.dtype(torch::kInt64)).to(torch::kFloat32) /
                  static_cast<float>(rotary_dim);
  auto inv_freq = 1.0 / torch::pow(theta, exponent);  // [rotary_dim/2]
  auto freqs = position_ids_BT.to(torch::kFloat32).unsqueeze(-1) * inv_freq.view({1, 1, -1});
  auto emb = torch::cat({freqs, freqs}, -1);  // [B, T, rotary_dim]
  return {emb.cos().to(dtype).unsqueeze(1), emb.sin().to(dtype).unsqueeze(1)};
}

torch::Tensor as_batched_matrices(const torch::Tensor& t_BHXY) {
  return t_BHXY.reshape({t_BHXY.size(0) * t_BHXY.size(1), t_BHXY.size(2), t_BHXY.size(3)});
}

torch::Tensor vocabulary_logits(const torch::Tensor& hidden_BTD, const torch::Tensor& weight_VD,
                                const torch::Tensor& bias_V) {
  const bool one_row = hidden_BTD.dim() >= 1 && hidden_BTD.numel() == hidden_BTD.size(-1);
  const bool graph = torch::GradMode::is_enabled() && (hidden_BTD.requires_grad() || weight_VD.requires_grad() ||
                                                       (bias_V.defined() && bias_V.requires_grad()));
  const bool cpu_same_dtype = hidden_BTD.device().is_cpu() && weight_VD.device().is_cpu() &&
                              hidden_BTD.scalar_type() == weight_VD.scalar_type() && weight_VD.dim() == 2;
  if (!one_row || graph || !cpu_same_dtype) return split_linear(hidden_BTD, weight_VD, bias_V);
  torch::Tensor logits_V;
  if (weight_VD.scalar_type() == torch::kFloat32 && weight_VD.stride(1) == 1) {
    RECORD_FUNCTION("vista_kernel::row_dots", std::vector<c10::IValue>());
    const auto vector_D = hidden_BTD.reshape({-1}).contiguous();
    const int64_t V = weight_VD.size(0), D = weight_VD.size(1), ld = weight_VD.stride(0);
    logits_V = torch::empty({V}, weight_VD.options());
    const float* matrix = weight_VD.data_ptr<float>();
    const float* vector = vector_D.data_ptr<float>();
    float* out = logits_V.data_ptr<float>();
    at::parallel_for(0, V, 2048, [&](int64_t begin, int64_t end) { row_dots(matrix, ld, D, vector, begin, end, out); });
  } else {
    logits_V = torch::mv(weight_VD, hidden_BTD.reshape({-1}));
  }
  if (bias_V.defined()) logits_V = bias_V + logits_V;  // addmm's order: the bias, then the product added
  auto sizes = hidden_BTD.sizes().vec();
  sizes.back() = weight_VD.size(0);
  return logits_V.view(sizes);
}

namespace {
// torch.finfo(dtype).min, the value HF adds for masked positions.
double lowest_value(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat64: return std::numeric_limits<double>::lowest();
    case torch::kFloat16: return -65504.0;
    case torch::kBFloat16: return -3.3895313892515355e38;
    default: return std::numeric_limits<float>::lowest();
  }
}

torch::Tensor rotate_half(const torch::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  auto x1 = x.narrow(-1, 0, half);
  auto x2 = x.narrow(-1, half, x.size(-1) - half);
  return torch::cat({-x2, x1}, -1);
}
}  // namespace

torch::Tensor apply_rotary(const torch::Tensor& x_BHTD, const RotaryTables& rope) {
  if (rotary_kernel_applies(x_BHTD, rope.cos_B1TH, rope.sin_B1TH))
    return rotary_float32(x_BHTD, rope.cos_B1TH, rope.sin_B1TH);
  const int64_t rotary_dim = rope.cos_B1TH.size(-1);
  if (rotary_dim == x_BHTD.size(-1)) return x_BHTD * rope.cos_B1TH + rotate_half(x_BHTD) * rope.sin_B1TH;
  auto rot = x_BHTD.narrow(-1, 0, rotary_dim);
  auto pass = x_BHTD.narrow(-1, rotary_dim, x_BHTD.size(-1) - rotary_dim);
  rot = rot * rope.cos_B1TH + rotate_half(rot) * rope.sin_B1TH;
  return torch::cat({rot, pass}, -1);
}

torch::Tensor causal_padding_mask(const torch::Tensor& key_valid_BT, int64_t num_queries,
                                  int64_t query_offset, torch::ScalarType dtype, int64_t sliding_window) {
  const auto device = key_valid_BT.device();
  const int64_t num_keys = key_valid_BT.size(1);
  auto opts = torch::TensorOptions().device(device).dtype(torch::kInt64);
  auto query_pos = torch::arange(query_offset, query_offset + num_queries, opts).view({-1, 1});
  auto key_pos = torch::arange(num_keys, opts).view({1, -1});
  auto causal = key_pos <= query_pos;
  if (sliding_window > 0) causal = causal & (key_pos >= query_pos - sliding_window);
  auto allowed = causal.view({1, 1, num_queries, num_keys}) &
                 key_valid_BT.to(torch::kBool).view({key_valid_BT.size(0), 1, 1, num_keys});
  auto lowest = torch::full({}, lowest_value(dtype), torch::TensorOptions().dtype(dtype).device(device));
  return torch::where(allowed, torch::zeros({}, lowest.options()), lowest);
}

torch::Tensor repeat_kv(const torch::Tensor& x_BHTD, int64_t n_rep) {
  if (n_rep == 1) return x_BHTD;
  const auto b = x_BHTD.size(0), h = x_BHTD.size(1), t = x_BHTD.size(2), d = x_BHTD.size(3);
  return x_BHTD.unsqueeze(2).expand({b, h, n_rep, t, d}).reshape({b, h * n_rep, t, d});
}

namespace {
thread_local const std::function<void(const torch::Tensor&)>* active_recording = nullptr;
}  // namespace

AttentionRecording::AttentionRecording(std::function<void(const torch::Tensor& probs_BHTS)> record)
    : record_(std::move(record)), previous_(active_recording) {
  active_recording = &record_;
}

AttentionRecording::~AttentionRecording() { active_recording = previous_; }

const std::function<void(const torch::Tensor&)>* AttentionRecording::active() { return active_recording; }

torch::Tensor attention_scores_after_matmul(const torch::Tensor& q_BHTD, const torch::Tensor& k_BHSD,
                                            const torch::Tensor& v_BHSD, const torch::Tensor& mask_B1TS) {
  const auto* recording = AttentionRecording::active();
  if (!recording && compat::fused_attention_available(q_BHTD.device()))
    return compat::fused_attention(q_BHTD, k_BHSD, v_BHSD, mask_B1TS);
  // Kept until backward recomputes it: the mask by value.
  const double scale = std::sqrt(static_cast<double>(q_BHTD.size(-1)));
  auto scores_of = [mask_B1TS, scale](const torch::Tensor& q, const torch::Tensor& k) {
    auto scores = torch::matmul(q, k.transpose(2, 3)) / scale;
    if (mask_B1TS.defined()) scores = scores + mask_B1TS;
    return scores;
  };
  return attention_recomputed_in_backward(scores_of, q_BHTD, k_BHSD, v_BHSD, q_BHTD.scalar_type(), {mask_B1TS, scale});
}

torch::nn::LayerNorm layer_norm(int64_t dim, double eps) {
  return torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(eps));
}

torch::Tensor quick_gelu(const torch::Tensor& x) { return x * torch::sigmoid(1.702 * x); }

torch::Tensor activation(const std::string& name, const torch::Tensor& x) {
  if (name == "quick_gelu") return quick_gelu(x);
  if (name == "gelu") return torch::gelu(x);
  if (name == "gelu_pytorch_tanh") return torch::gelu(x, "tanh");
  if (name == "gelu_new") {  // HF NewGELUActivation, spelled out as there (not the fused kernel)
    const double k = std::sqrt(2.0 / M_PI);
    return 0.5 * x * (1.0 + torch::tanh(k * (x + 0.044715 * torch::pow(x, 3.0))));
  }
  if (name == "silu") return torch::silu(x);
  fail("unsupported activation '{}' (expected quick_gelu, gelu, gelu_new, gelu_pytorch_tanh, silu)", name);
}

}  // namespace vista::models
