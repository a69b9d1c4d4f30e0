#pragma once
// The loops behind blocked_attention.h's core for float32 operands on the CPU. Each (sample, head)
// pair runs on one thread, its query blocks one after another: the block's rows times its keys
// (BLAS, on that thread: runtime/blas.h), then the division, the mask and the softmax of each row
// in one pass over a block-sized buffer, then the product with the values. Neither the [T, S]
// square nor libtorch's per-matrix dispatch is paid for. The backward takes each block's
// probabilities kept by the forward (or recomputes them the same way) and adds every block's
// share into the key and value gradients.
#include <torch/torch.h>

#include <vector>

#include "models/blocked_attention.h"

namespace vista::models {

// The floats of one (sample, head) pair's probabilities over the blocks: rows x keys each.
int64_t block_probability_floats(const std::vector<QueryBlock>& blocks);

// softmax(q k^T / divisor + mask) v over the blocks, laid out [B, T, H, Dv] (contiguous), for
// float32 CPU operands q [B, H, T, D], k [B, H, S, D], v [B, H, S, Dv] and mask [B or 1, 1, T, S].
// With keep_probabilities, also every block's probabilities: pair (b, h) at (b H + h) times
// block_probability_floats, its blocks in order, each rows x keys row-major.
struct BlockedAttentionForward {
  torch::Tensor out_BTHD, probabilities;
};
BlockedAttentionForward blocked_attention_forward_kernel(const torch::Tensor& q_BHTD, const torch::Tensor& k_BHSD,
                                                         const torch::Tensor& v_BHSD, const torch::Tensor& mask_B1TS,
                                                         float divisor, const std::vector<QueryBlock>& blocks,
                                                         bool keep_probabilities);

// The gradients asked for (the others undefined), each a [B, H, rows, D] view of a [B, rows, H, D]
// tensor, so that merging the heads back is a view too. `probabilities`: the forward's, or
// undefined to recompute them (the same bits either way).
struct AttentionInputGrads {
  torch::Tensor q_BHTD, k_BHSD, v_BHSD;
};
AttentionInputGrads blocked_attention_backward_kernel(const torch::Tensor& q_BHTD, const torch::Tensor& k_BHSD,
                                                      const torch::Tensor& v_BHSD, const torch::Tensor& mask_B1TS,
                                                      float divisor, const std::vector<QueryBlock>& blocks,
                                                      const torch::Tensor& grad_out_BHTD, bool need_q, bool need_k,
                                                      bool need_v, const torch::Tensor& probabilities);

}  // namespace vista::models
