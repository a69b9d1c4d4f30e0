#pragma once
// Float32 GEMM through the BLAS libtorch itself computes with: Debian's libtorch calls libblas.so.3
// (OpenBLAS); the PyPI wheel carries MKL and exports its sgemm_, but where Debian's OpenBLAS is
// installed the wheel's build links it first, so its sgemm_ is OpenBLAS's there too
// (cmake/TorchBuild.cmake). Kernels that run many small
// products per thread call it directly: libtorch has no public BLAS entry point, and its bmm on
// the CPU goes through the dispatcher once per matrix (select, addmm_) and threads each product.
// Called from inside at::parallel_for, an OpenMP BLAS (OpenBLAS's OpenMP variant, MKL) runs the
// product on the calling thread.
#include <cstdint>

namespace vista {

// c = alpha * op(a) * op(b) + beta * c for row-major matrices: op(a) is m x k, op(b) k x n, c m x n,
// each with its row stride (lda, ldb, ldc); op transposes where asked. beta = 0 ignores c's values.
void sgemm_row_major(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                     int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// sgemm_row_major for callers that report their products to the profiler themselves
// (runtime/split_mm.h records each as one operator with its operands' shapes).
void sgemm_row_major_uncounted(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
                               const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                               int64_t ldc);

// 2 x the multiply-adds of every product sgemm_row_major has run in this process, on any thread:
// the profiler sees no operator for them (train/op_profile.h counts them from this).
uint64_t sgemm_row_major_flops();

}  // namespace vista
