#pragma once
// HF's LlamaRMSNorm, weight * (x * rsqrt(mean(x^2) + eps)), for float32 on the CPU as one pass over
// each row forward and one backward. The plain expression runs six operators forward and about a
// dozen backward (docs/performance.md: a quarter of a step's elementwise time), each a pass over
// [B, T, D]. Output and gradients equal the plain expression's up to float32 rounding: the sums
// over a row (of x^2, and of the gradient times x) are taken in eight partial sums, the weight's
// gradient over fixed chunks of rows (so it does not depend on the number of threads), and x's
// gradient is one term instead of autograd's two. The output itself is weight * (x * rstd) with
// the rstd it returns, two float products as libtorch computes them: RecomputableNorm
// (lean_elementwise.h) recomputes it bit for bit.
#include <torch/torch.h>

namespace vista::models {

// x [..., D] float32 on the CPU and a float32 CPU weight [D].
bool rms_norm_kernel_applies(const torch::Tensor& x, const torch::Tensor& weight_D);

struct RmsNormForward {
  torch::Tensor out;   // x's shape, contiguous
  torch::Tensor rstd;  // [..., 1]: rsqrt(mean(x^2) + eps) of each row
};
RmsNormForward rms_norm_forward_kernel(const torch::Tensor& x, const torch::Tensor& weight_D, double eps);

// The gradients asked for (the other undefined) from the output's gradient, x, the weight and the
// forward's rstd.
struct RmsNormGrads {
  torch::Tensor x, weight_D;
};
RmsNormGrads rms_norm_backward_kernel(const torch::Tensor& grad_out, const torch::Tensor& x,
                                      const torch::Tensor& weight_D, const torch::Tensor& rstd, bool need_x,
                                      bool need_weight);

}  // namespace vista::models
