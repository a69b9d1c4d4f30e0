#include "models/lean_elementwise.h"

#include <ATen/core/ivalue.h>
#include <torch/csrc/autograd/graph_task.h>

#include "models/rms_norm_kernel.h"
#include "models/split_linear.h"
#include "models/swiglu_kernel.h"
#include "runtime/split_mm.h"
#include "runtime/torch_compat.h"
#include "util/error.h"

namespace vista::models {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

bool wants_graph(const torch::Tensor& t) { return torch::GradMode::is_enabled() && t.requires_grad(); }

// silu(gate) * up: swiglu_kernel.h's single pass on the CPU, libtorch's two ops elsewhere.
torch::Tensor silu_times(const torch::Tensor& gate, const torch::Tensor& up) {
  if (swiglu_kernel_applies(gate, up)) return swiglu_forward_kernel(gate, up);
  return torch::silu(gate) * up;
}

class SwiGLU : public torch::autograd::Function<SwiGLU> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& gate, const torch::Tensor& up) {
    ctx->save_for_backward({gate, up});
    return silu_times(gate, up);
  }
  // As autograd differentiates silu(gate) * up: d up = g * silu(gate), d gate = silu'(gate) (g * up).
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& gate = saved[0];
    const auto& up = saved[1];
    const auto& g = grads[0];
    if (swiglu_kernel_applies(gate, up)) {
      // The kernel writes gate's gradient over its first operand: a copy of g only where it does.
      auto product_grad = ctx->needs_input_grad(0) ? g.clone(torch::MemoryFormat::Contiguous) : g.contiguous();
      auto kernel = swiglu_backward_kernel_into(std::move(product_grad), gate, up, ctx->needs_input_grad(0),
                                                ctx->needs_input_grad(1));
      return {kernel.gate, kernel.up};
    }
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
    return split_linear_product(silu_times(gate, up), weight, torch::Tensor());
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& gate = saved[0];
    const auto& up = saved[1];
    const auto& weight = saved[2];
    const auto g_2d = grads[0].reshape({-1, grads[0].size(-1)});
    torch::Tensor grad_gate, grad_up, grad_weight;
    if (swiglu_kernel_applies(gate, up)) {
      if (ctx->needs_input_grad(2)) {
        const auto product = swiglu_forward_kernel(gate, up);
        grad_weight = mm_float32(g_2d.t(), product.reshape({-1, product.size(-1)}));
      }
      if (ctx->needs_input_grad(0) || ctx->needs_input_grad(1)) {
        auto kernel = swiglu_backward_kernel_into(mm_float32(g_2d, weight).view(gate.sizes()), gate, up,
                                                  ctx->needs_input_grad(0), ctx->needs_input_grad(1));
        grad_gate = std::move(kernel.gate);
        grad_up = std::move(kernel.up);
      }
      return {grad_gate, grad_up, grad_weight};
    }
    // silu(gate) once for both of its uses: 1.2 ms a layer at 1792 x 1408, against one more
    // [B, T, I] tensor (10 MB there) alive during the weight's product.
    torch::Tensor silu_gate;
    if (ctx->needs_input_grad(1) || ctx->needs_input_grad(2)) silu_gate = torch::silu(gate);
    if (ctx->needs_input_grad(2)) {
      const auto product = silu_gate * up;
      grad_weight = mm_float32(g_2d.t(), product.reshape({-1, product.size(-1)}));
    }
    if (ctx->needs_input_grad(0) || ctx->needs_input_grad(1)) {
      // In place where the plain backward allocates: the step's memory peaks in this backward (the
      // last full layer's, with every activation still kept), and each [B, T, I] tensor less is 10
      // MB there. The products are the same bits (a * b is b * a).
      auto g_product = mm_float32(g_2d, weight).view(gate.sizes());
      if (ctx->needs_input_grad(1)) grad_up = silu_gate.mul_(g_product);
      if (ctx->needs_input_grad(0)) grad_gate = at::silu_backward_out(g_product, g_product.mul_(up), gate);
    }
    return {grad_gate, grad_up, grad_weight};
  }
};

struct NormHolder : torch::CustomClassHolder {
  explicit NormHolder(std::shared_ptr<RecomputableNorm> n) : norm(std::move(n)) {}
  std::shared_ptr<RecomputableNorm> norm;
};

// On the CPU the forward and the backward are rms_norm_kernel.h's single passes, and x's gradient
// is one term. Elsewhere they are the plain expression's ops, and x enters twice, as the two places
// that expression uses it (the product x * rsqrt and the square in the variance), so autograd
// receives the two gradient terms separately and adds them to the rest of x's gradient in the
// order it would have: the sum's rounding stays the plain expression's.
class RMSNormFloat32 : public torch::autograd::Function<RMSNormFloat32> {
 public:
  // `recipe`, when given, receives the per-row rsqrt, and is released by this backward.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& x_in_variance,
                               const torch::Tensor& weight, double eps, c10::intrusive_ptr<NormHolder> recipe) {
    torch::Tensor rstd, out;
    if (rms_norm_kernel_applies(x, weight)) {
      auto forward = rms_norm_forward_kernel(x, weight, eps);
      rstd = std::move(forward.rstd);
      out = std::move(forward.out);
    } else {
      rstd = torch::rsqrt(x_in_variance.pow(2).mean(-1, /*keepdim=*/true) + eps);
      out = weight * (x * rstd);
    }
    ctx->save_for_backward({x, weight});
    ctx->saved_data["rstd"] = rstd;
    if (recipe) {
      recipe->norm->set_rstd(rstd);
      ctx->saved_data["recipe"] = c10::IValue::make_capsule(std::move(recipe));
    }
    return out;
  }
  // Each line is the derivative autograd applies to the plain expression's op (derivatives.yaml).
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const auto rstd = ctx->saved_data["rstd"].toTensor();
    const auto& g = grads[0];
    if (ctx->saved_data.count("recipe") && !torch::autograd::get_current_graph_task_keep_graph())
      c10::static_intrusive_pointer_cast<NormHolder>(ctx->saved_data["recipe"].toCapsule())->norm->release();
    if (rms_norm_kernel_applies(x, weight)) {
      auto grads = rms_norm_backward_kernel(g, x, weight, rstd, ctx->needs_input_grad(0) || ctx->needs_input_grad(1),
                                            ctx->needs_input_grad(2));
      return {grads.x, torch::Tensor(), grads.weight_D, torch::Tensor(), torch::Tensor()};
    }
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
    return {grad_x, grad_x_in_variance, grad_weight, torch::Tensor(), torch::Tensor()};
  }
};

// at::linear's ops and autograd's formulas for them, the input recomputed (see swiglu_linear).
class LinearOfNorm : public torch::autograd::Function<LinearOfNorm> {
 public:
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& normed, const torch::Tensor& weight,
                               const torch::Tensor& bias, c10::intrusive_ptr<NormHolder> holder) {
    ctx->save_for_backward({weight});
    ctx->saved_data["norm"] = c10::IValue::make_capsule(std::move(holder));
    const bool has_bias = bias.numel() > 0;
    ctx->saved_data["has_bias"] = has_bias;
    ctx->saved_data["sizes"] = normed.sizes().vec();
    return split_linear_product(normed, weight, has_bias ? bias : torch::Tensor());
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto weight = ctx->get_saved_variables()[0];
    const auto holder = c10::static_intrusive_pointer_cast<NormHolder>(ctx->saved_data["norm"].toCapsule());
    const auto g_2d = grads[0].reshape({-1, grads[0].size(-1)});
    torch::Tensor grad_normed, grad_weight, grad_bias;
    if (ctx->needs_input_grad(1)) {
      const auto normed = holder->norm->take();
      grad_weight = mm_float32(g_2d.t(), normed.reshape({-1, normed.size(-1)}));
    }
    if (ctx->needs_input_grad(0)) grad_normed = mm_float32(g_2d, weight).view(ctx->saved_data["sizes"].toIntVector());
    if (ctx->needs_input_grad(2) && ctx->saved_data["has_bias"].toBool()) grad_bias = g_2d.sum(0);
    return {grad_normed, grad_weight, grad_bias, torch::Tensor()};
  }
};

}  // namespace

torch::Tensor swiglu(const torch::Tensor& gate_BTI, const torch::Tensor& up_BTI) {
  if (!wants_graph(gate_BTI) && !wants_graph(up_BTI)) return silu_times(gate_BTI, up_BTI);
  return SwiGLU::apply(gate_BTI, up_BTI);
}

torch::Tensor swiglu_linear(const torch::Tensor& gate_BTI, const torch::Tensor& up_BTI,
                            const torch::Tensor& weight_DI) {
  if (!wants_graph(gate_BTI) && !wants_graph(up_BTI) && !wants_graph(weight_DI))
    return split_linear_product(silu_times(gate_BTI, up_BTI), weight_DI, torch::Tensor());
  // Autocast casts the linear's operands; the plain linear is where it does.
  if (compat::autocast_enabled(c10::DeviceType::CPU) || compat::autocast_enabled(c10::DeviceType::CUDA))
    return torch::nn::functional::linear(swiglu(gate_BTI, up_BTI), weight_DI);
  return SwiGLULinear::apply(gate_BTI, up_BTI, weight_DI);
}

torch::Tensor rms_norm_float32(const torch::Tensor& x_BTD, const torch::Tensor& weight_D, double eps) {
  if (!wants_graph(x_BTD) && !wants_graph(weight_D)) {
    if (rms_norm_kernel_applies(x_BTD, weight_D)) return rms_norm_forward_kernel(x_BTD, weight_D, eps).out;
    const auto rstd = torch::rsqrt(x_BTD.pow(2).mean(-1, /*keepdim=*/true) + eps);
    return weight_D * (x_BTD * rstd);
  }
  return RMSNormFloat32::apply(x_BTD, x_BTD, weight_D, eps, c10::intrusive_ptr<NormHolder>());
}

torch::Tensor RecomputableNorm::take() {
  if (!cached_.defined()) {
    if (!x_.defined()) fail("a norm's output was needed after its backward let go of it (retain_graph keeps it)");
    torch::NoGradGuard no_grad;
    cached_ = weight_ * (x_ * rstd_);
    pending_ = consumers_;
  }
  auto normed = cached_;
  if (--pending_ <= 0) cached_ = torch::Tensor();
  return normed;
}

void RecomputableNorm::release() { x_ = weight_ = rstd_ = cached_ = torch::Tensor(); }

std::pair<torch::Tensor, std::shared_ptr<RecomputableNorm>> rms_norm_float32_recomputable(const torch::Tensor& x_BTD,
                                                                                          const torch::Tensor& weight_D,
                                                                                          double eps) {
  if (!wants_graph(x_BTD) && !wants_graph(weight_D)) return {rms_norm_float32(x_BTD, weight_D, eps), nullptr};
  auto norm = std::make_shared<RecomputableNorm>(x_BTD.detach(), weight_D.detach());
  auto normed = RMSNormFloat32::apply(x_BTD, x_BTD, weight_D, eps, c10::make_intrusive<NormHolder>(norm));
  return {normed, norm};
}

torch::Tensor linear_of_norm(const torch::Tensor& normed_BTD, const std::shared_ptr<RecomputableNorm>& norm,
                             const torch::Tensor& weight_OD, const torch::Tensor& bias_O) {
  const bool graph = wants_graph(normed_BTD) || wants_graph(weight_OD) || (bias_O.defined() && wants_graph(bias_O));
  if (!norm || !graph || compat::autocast_enabled(c10::DeviceType::CPU) ||
      compat::autocast_enabled(c10::DeviceType::CUDA))
    return split_linear(normed_BTD, weight_OD, bias_O);
  norm->add_consumer();
  // An autograd function's inputs are defined tensors (libtorch 1.13): no bias is an empty one.
  const auto bias = bias_O.defined() ? bias_O : torch::empty({0}, weight_OD.options());
  return LinearOfNorm::apply(normed_BTD, weight_OD, bias, c10::make_intrusive<NormHolder>(norm));
}

}  // namespace vista::models
