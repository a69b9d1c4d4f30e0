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

// HF eager attention's core, out = matmul(softmax(scores(q, k), -1, float32).to(probs_dtype), v),
// whose backward recomputes the scores and probabilities [B, H, T, S] from q and k instead of
// keeping them from the forward (what memory-efficient attention kernels do: only q, k and v are
// kept). In float32 the backward does not redo the product with v, which it does not need: it
// applies autograd's own formulas for bmm and softmax to the operands the forward multiplied.
// The output and the gradients are bit for bit the plain expression's. Without grad mode, inside
// a checkpointed block's recomputation (which already recomputes everything once), or while an
// AttentionRecording is active (which sees the probabilities), it is the plain expression.
//
// Where the caller says what the scores are (matmul(q, k^T) / divisor + mask) and the mask hides
// keys from whole blocks of query rows, a float32 core on the CPU runs in query blocks instead
// (blocked_attention.h): the same terms up to the order of float sums, and fewer products.
using AttentionScoresFn = std::function<torch::Tensor(const torch::Tensor& q_BHTD, const torch::Tensor& k_BHSD)>;
struct DividedMaskedScores {
  torch::Tensor mask_B1TS;
  double divisor = 0;  // 0: the scores are not known to have this form
};
torch::Tensor attention_recomputed_in_backward(const AttentionScoresFn& scores, const torch::Tensor& q_BHTD,
                                               const torch::Tensor& k_BHSD, const torch::Tensor& v_BHSD,
                                               torch::ScalarType probs_dtype, const DividedMaskedScores& form = {});

// Blocks recomputed in backward since the program started: what lets a test (or a curious user)
// see that checkpointing is really on.
int64_t recomputed_blocks();
// Attention cores recomputed in backward since the program started.
int64_t recomputed_attention_cores();

}  // namespace vista::models
