#pragma once
// Activation recomputation: run a block without keeping its intermediate activations and
// recompute them during backward (what torch.utils.checkpoint does). Only the block's input is
// stored; parameter gradients accumulate as in an ordinary backward.
#include <torch/torch.h>

#include <functional>

namespace vista::models {

using BlockFn = std::function<torch::Tensor(const torch::Tensor&)>;

// y = block(x) with recomputation in backward. Without grad mode (or when nothing needs a
// gradient) it is a plain call.
torch::Tensor checkpointed(const BlockFn& block, const torch::Tensor& x);

// Blocks recomputed in backward since the program started: what lets a test (or a curious user)
// see that checkpointing is really on.
int64_t recomputed_blocks();

}  // namespace vista::models
