#include "models/split_linear.h"

#include "runtime/split_mm.h"
#include "runtime/torch_compat.h"

namespace vista::models {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

bool takes_split(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  if (!split_mm_enabled() || x.dim() < 1 || weight.dim() != 2 || !x.device().is_cpu() || !weight.device().is_cpu())
    return false;
  if (x.scalar_type() != torch::kFloat32 || weight.scalar_type() != torch::kFloat32) return false;
  if (bias.defined() && (bias.scalar_type() != torch::kFloat32 || !bias.device().is_cpu())) return false;
  // Autocast casts at::linear's operands; the plain linear is where it does.
  return !compat::autocast_enabled(c10::DeviceType::CPU) && !compat::autocast_enabled(c10::DeviceType::CUDA);
}

torch::Tensor product(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  const auto y_2d = mm_float32(x.reshape({-1, x.size(-1)}), weight.t(), bias);
  auto sizes = x.sizes().vec();
  sizes.back() = weight.size(0);
  return y_2d.view(sizes);
}

class SplitLinear : public torch::autograd::Function<SplitLinear> {
 public:
  // An autograd function's inputs are defined tensors (libtorch 1.13): no bias is an empty one.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias) {
    ctx->save_for_backward({x, weight});
    const bool has_bias = bias.numel() > 0;
    ctx->saved_data["has_bias"] = has_bias;
    return product(x, weight, has_bias ? bias : torch::Tensor());
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const auto g_2d = grads[0].reshape({-1, grads[0].size(-1)});
    torch::Tensor grad_x, grad_weight, grad_bias;
    if (ctx->needs_input_grad(0)) grad_x = mm_float32(g_2d, weight).view(x.sizes());
    if (ctx->needs_input_grad(1)) grad_weight = mm_float32(g_2d.t(), x.reshape({-1, x.size(-1)}));
    if (ctx->needs_input_grad(2) && ctx->saved_data["has_bias"].toBool()) grad_bias = g_2d.sum(0);
    return {grad_x, grad_weight, grad_bias};
  }
};

}  // namespace

torch::Tensor split_linear(const torch::Tensor& x_BTI, const torch::Tensor& weight_OI, const torch::Tensor& bias_O) {
  if (!takes_split(x_BTI, weight_OI, bias_O)) return torch::nn::functional::linear(x_BTI, weight_OI, bias_O);
  const bool graph = torch::GradMode::is_enabled() && (x_BTI.requires_grad() || weight_OI.requires_grad() ||
                                                       (bias_O.defined() && bias_O.requires_grad()));
  if (!graph) return product(x_BTI, weight_OI, bias_O);
  const auto bias = bias_O.defined() ? bias_O : torch::empty({0}, weight_OI.options());
  return SplitLinear::apply(x_BTI, weight_OI, bias);
}

torch::Tensor split_linear_product(const torch::Tensor& x_BTI, const torch::Tensor& weight_OI,
                                   const torch::Tensor& bias_O) {
  if (!takes_split(x_BTI, weight_OI, bias_O)) return torch::nn::functional::linear(x_BTI, weight_OI, bias_O);
  return product(x_BTI, weight_OI, bias_O);
}

}  // namespace vista::models
