#pragma once
// Attention's float32 core, softmax(matmul(q, k^T) / divisor + mask) v, with the query rows in
// blocks that each multiply only the keys up to the last one the mask lets a row of the block see.
// Under a causal mask a block of rows [a, a + r) needs keys [0, a + r): at 448 positions in blocks
// of 64 rows that is 57% of the products of the whole square, and the softmax and its backward
// shrink with them. A key left out is one whose probability is an exact zero in the whole square
// (exp of the lowest float minus a row's maximum underflows), so the output and the gradients are
// the plain expression's up to the order of float sums and the last bits of the exponential
// (softmax_rows.h). For backward it keeps q, k, v and the blocks' probabilities (the causal half
// of the square: 14.7 MB a layer at 4 x 8 heads x 448 positions). Float32 operands on the CPU;
// the loops are attention_block_kernel.h's.
#include <torch/torch.h>

#include <vector>

namespace vista::models {

struct QueryBlock {
  int64_t first_row = 0;
  int64_t rows = 0;
  int64_t keys = 0;  // the block multiplies keys [0, keys)
};

// Query rows of mask_B1TS ([B or 1, 1, T, S], additive, HF's lowest float where masked) in blocks
// of rows_per_block (the last one shorter), each with 1 + the last key that a row of the block may
// see in any sample. A row that may see no key gets every key: HF's softmax spreads it over them.
std::vector<QueryBlock> query_blocks(const torch::Tensor& mask_B1TS, int64_t rows_per_block);

// Blocks that pay for the given operands, or none where the plain core is the one to run: a mask
// that lets every block see every key, fewer rows than two blocks, operands other than float32, or
// autocast on.
std::vector<QueryBlock> worthwhile_query_blocks(const torch::Tensor& q_BHTD, const torch::Tensor& k_BHSD,
                                                const torch::Tensor& v_BHSD, const torch::Tensor& mask_B1TS);

// The core over the given blocks (they cover the rows of q in order). Differentiable in q, k and v;
// fails with the reason for operands other than float32 CPU tensors of agreeing shapes.
torch::Tensor blocked_attention(const torch::Tensor& q_BHTD, const torch::Tensor& k_BHSD, const torch::Tensor& v_BHSD,
                                const torch::Tensor& mask_B1TS, double divisor, const std::vector<QueryBlock>& blocks);

}  // namespace vista::models
