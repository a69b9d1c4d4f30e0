#pragma once
// Float32 matrix products with the output split over the intra-op threads, each part one
// single-threaded BLAS call. OpenBLAS's own threads wait for each other inside a product, yielding
// to the kernel; on 2 Zen 3 cores, with operands from memory as in a training step, its threaded
// calls reached 123-145 GFLOP/s on the step's shapes and two single-threaded halves 128-152
// (docs/performance.md). MKL's single-threaded sgemm takes its generic path on AMD (50-79 GFLOP/s
// a core), so the split is taken only where the BLAS is OpenBLAS's OpenMP or sequential variant
// (both builds where Debian's OpenBLAS is installed); elsewhere these are at::mm and at::addmm.
#include <torch/torch.h>

namespace vista {

// a_MK @ b_KN, plus bias_N (undefined: none) added as at::addmm adds it: the output starts as the
// bias and the product is accumulated into it. a and b may be transposed views. Equal to at::mm
// to float32 rounding, not bit for bit: OpenBLAS's single-threaded call on a part may take other
// kernels (its small-matrix ones) than its threaded call on the whole.
torch::Tensor mm_float32(const torch::Tensor& a_MK, const torch::Tensor& b_KN, const torch::Tensor& bias_N = {});

// Whether mm_float32 splits products in this process: OpenBLAS (OpenMP or sequential) computes
// sgemm_, and VISTA_SPLIT_GEMM is unset or 1 (0 turns the split off, for comparisons; any other
// value is refused). The reason, for the start-up line and benchmarks.
bool split_mm_enabled();
std::string split_mm_summary();

}  // namespace vista
