// runtime/blas.h's row-major sgemm against torch::mm: every combination of transposes, row strides
// wider than the rows, beta 0 (which ignores what c held, NaN included) and beta 1 (which adds);
// its FLOP count; and its refusal of sizes past the BLAS's 32-bit integers.
#include "runtime/blas.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>

#include "test_util.h"

namespace vista {
namespace {

// A rows x cols matrix inside a wider one (row stride cols + 3), so that a wrong stride shows.
torch::Tensor padded(int64_t rows, int64_t cols) { return torch::randn({rows, cols + 3}).narrow(1, 0, cols); }

TEST(Blas, RowMajorProductsMatchTorchForEveryTransposeStrideAndBeta) {
  torch::manual_seed(5);
  const int64_t m = 7, n = 13, k = 9;
  for (const bool ta : {false, true})
    for (const bool tb : {false, true})
      for (const float beta : {0.0f, 1.0f}) {
        const auto a = ta ? padded(k, m) : padded(m, k);  // op(a) is m x k
        const auto b = tb ? padded(n, k) : padded(k, n);  // op(b) is k x n
        auto c = padded(m, n);
        if (beta == 0) c.fill_(std::numeric_limits<float>::quiet_NaN());
        const auto expected = torch::mm(ta ? a.t() : a, tb ? b.t() : b) * 0.5 + (beta == 0 ? torch::zeros_like(c) : c);
        const uint64_t before = sgemm_row_major_flops();
        sgemm_row_major(ta, tb, m, n, k, 0.5f, a.data_ptr<float>(), a.stride(0), b.data_ptr<float>(), b.stride(0), beta,
                        c.data_ptr<float>(), c.stride(0));
        const std::string what = fmt::format("transpose a {} b {}, beta {}", ta, tb, beta);
        EXPECT_EQ(sgemm_row_major_flops() - before, static_cast<uint64_t>(2 * m * n * k)) << what;
        EXPECT_TRUE(torch::allclose(c, expected, 1e-5, 1e-5)) << what << "\n" << (c - expected).abs().max();
      }
}

TEST(Blas, SizesPastThirtyTwoBitIntegersAreRefused) {
  float x = 0;
  const int64_t big = int64_t{1} << 31;
  expect_error_containing([&] { sgemm_row_major(false, false, big, 1, 1, 1.0f, &x, 1, &x, 1, 0.0f, &x, 1); },
                          {"sgemm_row_major", "32-bit"});
  expect_error_containing([&] { sgemm_row_major(false, false, 1, 1, 1, 1.0f, &x, big, &x, 1, 0.0f, &x, 1); },
                          {"row strides " + std::to_string(big)});
}

}  // namespace
}  // namespace vista
