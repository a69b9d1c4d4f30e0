#include "runtime/blas.h"

#include <atomic>
#include <limits>

#include "util/error.h"

// The Fortran BLAS interface (32-bit integers: Debian's OpenBLAS and the wheel's MKL are LP64).
extern "C" void sgemm_(const char* transa, const char* transb, const int* m, const int* n, const int* k,
                       const float* alpha, const float* a, const int* lda, const float* b, const int* ldb,
                       const float* beta, float* c, const int* ldc);

namespace vista {

namespace {
std::atomic<uint64_t> g_flops{0};
}  // namespace

uint64_t sgemm_row_major_flops() { return g_flops.load(std::memory_order_relaxed); }

void sgemm_row_major(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                     int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  sgemm_row_major_uncounted(transpose_a, transpose_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  g_flops.fetch_add(static_cast<uint64_t>(2 * m * n * k), std::memory_order_relaxed);
}

void sgemm_row_major_uncounted(bool transpose_a, bool transpose_b, int64_t m, int64_t n, int64_t k, float alpha,
                               const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                               int64_t ldc) {
  constexpr int64_t kMax = std::numeric_limits<int>::max();
  if (m < 0 || n < 0 || k < 0 || m > kMax || n > kMax || k > kMax || lda > kMax || ldb > kMax || ldc > kMax)
    fail("sgemm_row_major: m {} n {} k {} (row strides {} {} {}): expected sizes within the BLAS's 32-bit integers", m,
         n, k, lda, ldb, ldc);
  if (m == 0 || n == 0) return;
  // Row-major c is column-major c^T = op(b)^T op(a)^T: the operands swap, their flags stay.
  const char ta = transpose_b ? 'T' : 'N', tb = transpose_a ? 'T' : 'N';
  const int M = static_cast<int>(n), N = static_cast<int>(m), K = static_cast<int>(k);
  const int LDA = static_cast<int>(ldb), LDB = static_cast<int>(lda), LDC = static_cast<int>(ldc);
  sgemm_(&ta, &tb, &M, &N, &K, &alpha, b, &LDA, a, &LDB, &beta, c, &LDC);
}

}  // namespace vista
