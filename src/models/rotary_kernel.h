#pragma once
// HF's rotary embedding, x * cos + rotate_half(x) * sin on the first R channels of each row and x
// itself on the rest (Phi's partial rotary), as one pass over x in the forward and one over the
// gradient in the backward, for float32 on the CPU. The plain expression runs about six kernels
// forward (negation, concatenation, two products, a sum) and more backward (zero-filled slices
// that autograd then adds), each a pass over the query or key tensor. Every element is computed with
// the plain expression's operations in its order: output and gradient are bit for bit the same
// (tests/models/rotary_kernel_test.cpp). The output is contiguous [B, H, T, D] (the attention
// core's operands are then views); the gradient has the layout of x (for the heads it was split
// from, a view).
#include <torch/torch.h>

namespace vista::models {

// x [B, H, T, D] float32 on the CPU with unit stride along D; cos and sin [B or 1, 1, T, R] float32,
// R even and at most D, unit stride along R.
bool rotary_kernel_applies(const torch::Tensor& x_BHTD, const torch::Tensor& cos_B1TR, const torch::Tensor& sin_B1TR);

torch::Tensor rotary_float32(const torch::Tensor& x_BHTD, const torch::Tensor& cos_B1TR, const torch::Tensor& sin_B1TR);

}  // namespace vista::models
