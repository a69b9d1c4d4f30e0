#pragma once
// x W^T + b whose products, forward and backward, go through runtime/split_mm.h: split over the
// intra-op threads where the BLAS is OpenBLAS, at::linear's own ops and autograd's elsewhere.
// The products are the ones autograd applies to at::linear (the input's gradient g W, the
// weight's g^T x, the bias's the sum of g over rows), so with the split off nothing changes.
#include <torch/torch.h>

namespace vista::models {

// bias_O undefined: none.
torch::Tensor split_linear(const torch::Tensor& x_BTI, const torch::Tensor& weight_OI, const torch::Tensor& bias_O);

// The forward product alone, for autograd functions of vista's own that keep other tensors: no
// graph is recorded.
torch::Tensor split_linear_product(const torch::Tensor& x_BTI, const torch::Tensor& weight_OI,
                                   const torch::Tensor& bias_O);

}  // namespace vista::models
