// runtime/split_mm.h: where the BLAS is OpenBLAS (the Debian build) products are split over the
// threads and give at::mm / at::addmm's values to float32 rounding for plain, transposed and
// strided operands and for parts of odd sizes; small products, inputs that autograd records and other dtypes stay
// libtorch's. The profiler sees the split product as one GEMM operator with its FLOPs.
#include "runtime/split_mm.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "train/op_profile.h"

namespace vista {
namespace {

// op is m x k (or the transpose of a k x m matrix), inside a wider one: a wrong stride shows.
torch::Tensor operand(int64_t rows, int64_t cols, bool transposed) {
  return transposed ? torch::randn({cols, rows + 5}).narrow(1, 0, rows).t()
                    : torch::randn({rows, cols + 3}).narrow(1, 0, cols);
}

bool ran_split(const train::OpProfile& profile, uint64_t* flops) {
  for (const auto& op : profile.ops)
    if (op.name == "vista_kernel::mm") {
      *flops = op.flops;
      return true;
    }
  return false;
}

TEST(SplitMm, IsOnWhereTheBuildComputesWithOpenBLASsOpenMPVariant) {
#ifdef VISTA_TEST_BLAS_IS_OPENBLAS_OPENMP
  EXPECT_TRUE(split_mm_enabled()) << split_mm_summary();
  EXPECT_NE(split_mm_summary().find("split over the threads"), std::string::npos) << split_mm_summary();
#else
  EXPECT_FALSE(split_mm_enabled()) << split_mm_summary();
  EXPECT_NE(split_mm_summary().find("the BLAS's own threads"), std::string::npos) << split_mm_summary();
#endif
}

TEST(SplitMm, ProductsAreTorchsToRoundingForEveryLayoutSplitAndBias) {
  torch::manual_seed(11);
  // Rows split (m >= n), columns split (n > m), both with odd part sizes.
  for (const auto& [m, n, k] : std::vector<std::array<int64_t, 3>>{{301, 130, 67}, {129, 403, 75}})
    for (const bool ta : {false, true})
      for (const bool tb : {false, true})
        for (const bool with_bias : {false, true}) {
          const auto a = operand(m, k, ta), b = operand(k, n, tb);
          const auto bias = with_bias ? torch::randn({n}) : torch::Tensor();
          const std::string what = fmt::format("{}x{}x{}, transposed a {} b {}, bias {}", m, n, k, ta, tb, with_bias);
          torch::Tensor split;
          const auto profile = train::profile_ops([&] { split = mm_float32(a, b, bias); });
          const auto expected = with_bias ? at::addmm(bias, a, b) : at::mm(a, b);
          // Sums of 67-75 products of N(0, 1) values: about 8 in size, float32 rounding about 1e-6 each.
          EXPECT_TRUE(torch::allclose(split, expected, 1e-5, 5e-5))
              << what << ": max difference " << (split - expected).abs().max();
          uint64_t flops = 0;
          EXPECT_EQ(ran_split(profile, &flops), split_mm_enabled()) << what;
          if (split_mm_enabled()) {
            EXPECT_EQ(flops, static_cast<uint64_t>(2 * m * n * k)) << what;
          }
        }
}

TEST(SplitMm, SmallRecordedOrOtherProductsStayLibtorchs) {
  torch::manual_seed(12);
  const auto small_a = torch::randn({20, 30}), small_b = torch::randn({30, 40});
  const auto a = torch::randn({300, 70}), b = torch::randn({70, 130});
  const auto recorded = b.clone().requires_grad_(true);
  torch::Tensor out_recorded, out_double;
  const auto profile = train::profile_ops([&] {
    EXPECT_TRUE(torch::equal(mm_float32(small_a, small_b), at::mm(small_a, small_b)));
    out_recorded = mm_float32(a, recorded);
    out_double = mm_float32(a.to(torch::kFloat64), b.to(torch::kFloat64));
  });
  uint64_t flops = 0;
  EXPECT_FALSE(ran_split(profile, &flops));
  EXPECT_TRUE(out_recorded.requires_grad());  // autograd recorded the product, so its gradient flows
  EXPECT_EQ(out_double.scalar_type(), torch::kFloat64);
  EXPECT_TRUE(torch::allclose(out_double.to(torch::kFloat32), at::mm(a, b), 1e-4, 1e-4));
}

}  // namespace
}  // namespace vista
