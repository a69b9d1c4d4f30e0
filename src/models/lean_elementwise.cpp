#include "models/lean_elementwise.h"

#include "runtime/torch_compat.h"

namespace vista::models {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

bool wants_graph(const torch::Tensor& t) { return torch::GradMode::is_enabled() && t.requires_grad(); }

class SwiGLU : public torch::autograd::Function<SwiGLU> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& gate, const torch::Tensor& up) {
    ctx->save_for_backward({gate, up});
    return torch::silu(gate) * up;
  }
  // As autograd differentiates silu(gate) * up: d up = g * silu(gate), d gate = silu'(gate) (g * up).
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& gate = saved[0];
    const auto& up = saved[1];
    const auto& g = grads[0];
    torch::Tensor grad_gate, grad_up;
    if (ctx->needs_input_grad(0)) grad_gate = at::silu_backward(g * up, gate);
    if (ctx->needs_input_grad(1)) grad_up = g * torch::silu(gate);
    return {grad_gate, grad_up};
  }
};

// The plain expression's ops: silu(gate) * up, then at::linear, which for [B, T, I] input is a
// matmul folding the batch into one mm with weight.t(). Backward applies autograd's formulas for
// that mm (mm_mat1_backward and, weight.t() being column-major, mm_mat2_backward's transposed
// product) and then SwiGLU's.
class SwiGLULinear : public torch::autograd::Function<SwiGLULinear> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& gate, const torch::Tensor& up,
                               const torch::Tensor& weight) {
    ctx->save_for_backward({gate, up, weight});
    return torch::nn::functional::linear(torch::silu(gate) * up, weight);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& gate = saved[0];
    const auto& up = saved[1];
    const auto& weight = saved[2];
    const auto g_2d = grads[0].reshape({-1, grads[0].size(-1)});
    torch::Tensor grad_gate, grad_up, grad_weight;
    if (ctx->needs_input_grad(2)) {
      const auto product = torch::silu(gate).mul_(up);
      grad_weight = g_2d.t().mm(product.reshape({-1, product.size(-1)}));
    }
    if (ctx->needs_input_grad(0) || ctx->needs_input_grad(1)) {
      // In place where the plain backward allocates: the step's memory peaks in this backward (the
      // last full layer's, with every activation still kept), and each [B, T, I] tensor less is 10
      // MB there. The products are the same bits (a * b is b * a).
      auto g_product = g_2d.mm(weight).view(gate.sizes());
      if (ctx->needs_input_grad(1)) grad_up = torch::silu(gate).mul_(g_product);
      if (ctx->needs_input_grad(0)) grad_gate = at::silu_backward_out(g_product, g_product.mul_(up), gate);
    }
    return {grad_gate, grad_up, grad_weight};
  }
};

// x enters twice, as the two places the plain expression uses it (the product x * rsqrt and the
// square in the variance), so autograd receives the two gradient terms separately and adds them to
// the rest of x's gradient in the order it would have: the sum's rounding stays the same.
class RMSNormFloat32 : public torch::autograd::Function<RMSNormFloat32> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& x_in_variance,
                               const torch::Tensor& weight, double eps) {
    const auto rstd = torch::rsqrt(x_in_variance.pow(2).mean(-1, /*keepdim=*/true) + eps);
    ctx->save_for_backward({x, weight});
    ctx->saved_data["rstd"] = rstd;
    return weight * (x * rstd);
  }
  // Each line is the derivative autograd applies to the plain expression's op (derivatives.yaml).
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const auto rstd = ctx->saved_data["rstd"].toTensor();
    const auto& g = grads[0];
    const auto normed = x * rstd;
    torch::Tensor grad_x, grad_x_in_variance, grad_weight;
    if (ctx->needs_input_grad(2)) grad_weight = (g * normed).sum_to_size(weight.sizes());
    if (ctx->needs_input_grad(0) || ctx->needs_input_grad(1)) {
      const auto grad_normed = g * weight;
      if (ctx->needs_input_grad(0)) grad_x = grad_normed * rstd;
      if (ctx->needs_input_grad(1)) {
        const auto grad_rstd = (grad_normed * x).sum_to_size(rstd.sizes());
        const auto grad_variance = -0.5 * grad_rstd * rstd.pow(3);              // rsqrt
        const auto grad_square = grad_variance.expand(x.sizes()) / x.size(-1);  // mean over the last dim
        grad_x_in_variance = grad_square * (2.0 * x.pow(1.0));                  // pow(2)
      }
    }
    return {grad_x, grad_x_in_variance, grad_weight, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor swiglu(const torch::Tensor& gate_BTI, const torch::Tensor& up_BTI) {
  if (!wants_graph(gate_BTI) && !wants_graph(up_BTI)) return torch::silu(gate_BTI) * up_BTI;
  return SwiGLU::apply(gate_BTI, up_BTI);
}

torch::Tensor swiglu_linear(const torch::Tensor& gate_BTI, const torch::Tensor& up_BTI,
                            const torch::Tensor& weight_DI) {
  if (!wants_graph(gate_BTI) && !wants_graph(up_BTI) && !wants_graph(weight_DI))
    return torch::nn::functional::linear(torch::silu(gate_BTI) * up_BTI, weight_DI);
  // Autocast casts the linear's operands; the plain linear is where it does.
  if (compat::autocast_enabled(c10::DeviceType::CPU) || compat::autocast_enabled(c10::DeviceType::CUDA))
    return torch::nn::functional::linear(swiglu(gate_BTI, up_BTI), weight_DI);
  return SwiGLULinear::apply(gate_BTI, up_BTI, weight_DI);
}

torch::Tensor rms_norm_float32(const torch::Tensor& x_BTD, const torch::Tensor& weight_D, double eps) {
  if (!wants_graph(x_BTD) && !wants_graph(weight_D)) {
    const auto rstd = torch::rsqrt(x_BTD.pow(2).mean(-1, /*keepdim=*/true) + eps);
    return weight_D * (x_BTD * rstd);
  }
  return RMSNormFloat32::apply(x_BTD, x_BTD, weight_D, eps);
}

}  // namespace vista::models
