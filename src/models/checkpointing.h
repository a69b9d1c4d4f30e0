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

// softmax-attention core(q, k, v) -> out whose backward recomputes the core instead of keeping
// the probabilities [B, H, T, S] from the forward (what memory-efficient attention kernels do:
// only q, k and v are kept). The forward output and the gradients are bit for bit the plain
// core's. Without grad mode, inside a checkpointed block's recomputation (which already
// recomputes everything once), or while an AttentionRecording is active, it is a plain call.
using AttentionCoreFn =
    std::function<torch::Tensor(const torch::Tensor& q_BHTD, const torch::Tensor& k_BHSD, const torch::Tensor& v_BHSD)>;
torch::Tensor attention_recomputed_in_backward(const AttentionCoreFn& core, const torch::Tensor& q_BHTD,
                                               const torch::Tensor& k_BHSD, const torch::Tensor& v_BHSD);

// Blocks recomputed in backward since the program started: what lets a test (or a curious user)
// see that checkpointing is really on.
int64_t recomputed_blocks();
// Attention cores recomputed in backward since the program started.
int64_t recomputed_attention_cores();

}  // namespace vista::models
