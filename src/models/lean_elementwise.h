#pragma once
// Decoder pieces as autograd functions that keep less for backward than their plain expressions
// and recompute the rest there. Their forward output and their gradients are bit for bit those of
// the plain expressions (the same ops in the same order, and the input's gradient terms handed to
// autograd in the order it adds them); what changes is the memory of a training step, whose peak
// is the activations autograd keeps (docs/performance.md).
#include <torch/torch.h>

namespace vista::models {

// silu(gate) * up (the LLaMA MLP's inner product). Keeps gate and up; silu(gate) is recomputed.
torch::Tensor swiglu(const torch::Tensor& gate_BTI, const torch::Tensor& up_BTI);

// linear(silu(gate) * up, weight) without bias (the LLaMA MLP's down projection of it). Keeps
// gate, up and the weight: the product, which the plain linear keeps for its weight's gradient
// ([B, T, intermediate], the largest tensor a layer kept), is recomputed in backward. Under
// autocast it is the plain linear of swiglu(), whose operands autocast casts.
torch::Tensor swiglu_linear(const torch::Tensor& gate_BTI, const torch::Tensor& up_BTI, const torch::Tensor& weight_DI);

// weight * (x * rsqrt(mean(x^2) + eps)) for float32 x (HF's LlamaRMSNorm). Keeps x and the
// per-row rsqrt; the normalised x is recomputed.
torch::Tensor rms_norm_float32(const torch::Tensor& x_BTD, const torch::Tensor& weight_D, double eps);

}  // namespace vista::models
