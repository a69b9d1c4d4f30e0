#pragma once
// The LLaMA MLP's silu(gate) * up and its gradients for float32 on the CPU, each one pass over the
// [B, T, intermediate] tensors. The plain expression runs silu and a product forward and, with its
// backward, silu again, two products and silu_backward, each a pass over 10 MB at the bench's
// shapes. silu(x) is x / (1 + exp(-x)) as libtorch writes it, with float_lanes.h's exponential: the
// results equal libtorch's to float32 rounding, not bit for bit.
#include <torch/torch.h>

namespace vista::models {

// gate and up: float32 CPU tensors of one shape.
bool swiglu_kernel_applies(const torch::Tensor& gate, const torch::Tensor& up);

// silu(gate) * up, contiguous.
torch::Tensor swiglu_forward_kernel(const torch::Tensor& gate, const torch::Tensor& up);

// From the product's gradient: up's gradient g silu(gate) and gate's g up silu'(gate), silu'(x) =
// s (1 + x (1 - s)) with s = sigmoid(x). Gate's gradient is written over grad_product (contiguous,
// the caller's own buffer); the one not asked for stays undefined.
struct SwigluGrads {
  torch::Tensor gate, up;
};
SwigluGrads swiglu_backward_kernel_into(torch::Tensor grad_product, const torch::Tensor& gate, const torch::Tensor& up,
                                        bool need_gate, bool need_up);

}  // namespace vista::models
