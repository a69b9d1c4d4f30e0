#pragma once
// Attention's row-wise softmax over raw float32 buffers, for kernels that run it on one thread per
// (sample, head) pair between BLAS products (attention_block_kernel.h). The exponential is a
// vectorised polynomial (AVX2 where the CPU has it, chosen at load time), within a few float32
// ulps of libm's; libtorch's own vectorised softmax is reachable only as an operator.
#include <cstdint>

namespace vista::models {

// In place over rows x cols scores with row stride ld: s = s / divisor + mask (row stride mask_ld),
// then each row becomes its softmax. A probability under the smallest normal float comes out 0.
void masked_softmax_rows(float* scores, int64_t rows, int64_t cols, int64_t ld, const float* mask, int64_t mask_ld,
                         float divisor);

// In place: the probabilities' gradient becomes the gradient of the scores that masked_softmax_rows
// divided, probs * (grad - sum_j grad * probs) / divisor per row. Both buffers have row stride ld.
void softmax_backward_rows(float* grad, const float* probs, int64_t rows, int64_t cols, int64_t ld, float divisor);

}  // namespace vista::models
