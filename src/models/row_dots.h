#pragma once
// A float32 matrix times a vector, one dot product per row, over raw buffers: the vocabulary
// projection of one decoding row (layers.h, vocabulary_logits). BLAS's matrix-vector product was
// the slow part there: MKL (the torch wheel's) takes its generic path on AMD CPUs for it (0.32 ms
// for 32k x 64 on 2 cores, against 0.18 for the same product as a GEMM), and OpenBLAS's reads the
// short rows one at a time.
#include <cstdint>

namespace vista::models {

// out[i] = sum_j matrix[i * ld + j] * vector[j] for rows [begin, end), cols columns; the sum in
// eight-lane partial sums (AVX2 where the CPU has it), so it may differ from BLAS's in the last bits.
void row_dots(const float* matrix, int64_t ld, int64_t cols, const float* vector, int64_t begin, int64_t end,
              float* out);

}  // namespace vista::models
