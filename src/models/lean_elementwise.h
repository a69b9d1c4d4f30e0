#pragma once
// Decoder pieces as autograd functions that keep less for backward than their plain expressions
// and recompute the rest there. Their forward output and their gradients are bit for bit those of
// the plain expressions (the same ops in the same order, and the input's gradient terms handed to
// autograd in the order it adds them), their products those of models/split_linear.h (libtorch's
// own unless the split is on, which rounds its products differently), and on the CPU the RMS norm
// and silu(gate) * up are rms_norm_kernel.h's and swiglu_kernel.h's single passes (equal to float32
// rounding, not bit for bit); what changes is the memory of a training step, whose peak is the
// activations autograd keeps (docs/performance.md).
#include <torch/torch.h>

#include <memory>
#include <utility>

namespace vista::models {

// silu(gate) * up (the LLaMA MLP's inner product). Keeps gate and up; silu(gate) is recomputed.
torch::Tensor swiglu(const torch::Tensor& gate_BTI, const torch::Tensor& up_BTI);

// linear(silu(gate) * up, weight) without bias (the LLaMA MLP's down projection of it). Keeps
// gate, up and the weight: the product, which the plain linear keeps for its weight's gradient
// ([B, T, intermediate], the largest tensor a layer kept), is recomputed in backward. Under
// autocast it is the plain linear of swiglu(), whose operands autocast casts.
torch::Tensor swiglu_linear(const torch::Tensor& gate_BTI, const torch::Tensor& up_BTI, const torch::Tensor& weight_DI);

// weight * (x * rsqrt(mean(x^2) + eps)) for float32 x (HF's LlamaRMSNorm), on the CPU in one pass
// each way (rms_norm_kernel.h). Keeps x and the per-row rsqrt; the normalised x is recomputed.
torch::Tensor rms_norm_float32(const torch::Tensor& x_BTD, const torch::Tensor& weight_D, double eps);

// What gives an rms_norm_float32 output back bit for bit: x, the weight and the per-row rsqrt of
// the forward. The linears that read a norm's output keep this instead of the output (x is kept by
// the norm anyway): one [B, T, D] tensor less per norm in every layer until backward reaches it.
// A recomputed output is shared by the consumers that take it in one backward. The norm's own
// backward, which runs after theirs, lets go of x, unless the graph is kept for another backward.
class RecomputableNorm {
 public:
  RecomputableNorm(torch::Tensor x, torch::Tensor weight) : x_(std::move(x)), weight_(std::move(weight)) {}
  void set_rstd(torch::Tensor rstd) { rstd_ = std::move(rstd); }
  void add_consumer() { ++consumers_; }
  // The output, recomputed for the first consumer of a backward, dropped after the last.
  torch::Tensor take();
  void release();

 private:
  torch::Tensor x_, weight_, rstd_, cached_;
  int consumers_ = 0, pending_ = 0;
};

// rms_norm_float32 and, where a graph is built, its RecomputableNorm (else null).
std::pair<torch::Tensor, std::shared_ptr<RecomputableNorm>> rms_norm_float32_recomputable(const torch::Tensor& x_BTD,
                                                                                          const torch::Tensor& weight_D,
                                                                                          double eps);

// linear(normed, weight, bias) keeping `norm` instead of `normed` for the weight's gradient, which
// it computes with autograd's formulas for the mm at::linear folds the batch into.
torch::Tensor linear_of_norm(const torch::Tensor& normed_BTD, const std::shared_ptr<RecomputableNorm>& norm,
                             const torch::Tensor& weight_OD, const torch::Tensor& bias_O);

}  // namespace vista::models
