#pragma once
// torch::optim::AdamW whose update of a float32 parameter on the CPU is one pass over its elements.
// libtorch's AdamW runs eight kernels a parameter (two for each moment, three for the denominator,
// one for the parameter), each reading and writing whole tensors; the step is memory-bound, and
// one pass reads the parameter, its gradient and moments once and writes them once. The formulas
// are AdamW's, with its scalars: the moments and the parameter agree with libtorch's to float32
// rounding (tests/train/fused_adamw_test.cpp). Options, groups, state and checkpoints are those of
// torch::optim::AdamW, which this is; with amsgrad, or for other dtypes and devices, the update is
// AdamW's own sequence of tensor operations.
#include <torch/torch.h>

namespace vista::train {

class FusedAdamW : public torch::optim::AdamW {
 public:
  using torch::optim::AdamW::AdamW;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace vista::train
