// The one-pass rotary embedding (rotary_kernel.h) against HF's expression written out here: output
// and gradient bit for bit, for full and partial rotary, heads transposed out of [B, T, H, D],
// tables per sample and shared, and the layouts it promises.
#include <fmt/format.h>

#include "models/layers.h"
#include "models/rotary_kernel.h"
#include "test_util.h"

using namespace vista::models;

namespace {

torch::Tensor rotate_half_plain(const torch::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

// HF's apply_rotary_pos_emb, with Phi's split into a rotated and a passed-through part.
torch::Tensor rotary_plain(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const int64_t R = cos.size(-1);
  auto rot = x.narrow(-1, 0, R);
  rot = rot * cos + rotate_half_plain(rot) * sin;
  if (R == x.size(-1)) return rot;
  return torch::cat({rot, x.narrow(-1, R, x.size(-1) - R)}, -1);
}

}  // namespace

TEST(RotaryKernel, MatchesHfExpressionBitForBit) {
  torch::manual_seed(17);
  const int64_t B = 2, H = 3, T = 9, D = 16;
  for (const int64_t R : {int64_t{16}, int64_t{10}})
    for (const bool per_sample : {true, false}) {
      const std::string what = fmt::format("rotary dims {}, tables per sample {}", R, per_sample);
      const auto positions =
          per_sample ? torch::arange(T).repeat({B, 1}) + torch::tensor({{0}, {3}}) : torch::arange(T).view({1, T});
      const auto rope = rotary_tables(positions, R, 10000.0, torch::kFloat32);
      const auto x = torch::randn({B, T, H, D}).transpose(1, 2);  // the decoders' layout
      const auto w = torch::randn({B, H, T, D});
      ASSERT_TRUE(rotary_kernel_applies(x, rope.cos_B1TH, rope.sin_B1TH)) << what;
      auto x_plain = x.detach().clone().requires_grad_(true), x_kernel = x.detach().clone().requires_grad_(true);
      const auto plain = rotary_plain(x_plain, rope.cos_B1TH, rope.sin_B1TH);
      const auto kernel = apply_rotary(x_kernel, rope);
      EXPECT_TRUE(torch::equal(kernel, plain))
          << what << ": max difference " << (kernel - plain).abs().max().item<double>();
      EXPECT_TRUE(kernel.is_contiguous()) << what;
      const auto grad_plain = torch::autograd::grad({(plain * w).sum()}, {x_plain})[0];
      const auto grad_kernel = torch::autograd::grad({(kernel * w).sum()}, {x_kernel})[0];
      EXPECT_TRUE(torch::equal(grad_kernel, grad_plain))
          << what << ": max difference " << (grad_kernel - grad_plain).abs().max().item<double>();
      EXPECT_EQ(grad_kernel.strides(), x.strides()) << what;
      // Without a gradient to track it is the same function.
      torch::NoGradGuard no_grad;
      EXPECT_TRUE(torch::equal(apply_rotary(x, rope), plain.detach())) << what;
    }
}

// Tables that are not two copies of the same half (HF's are), so that every index of the kernel
// matters: a gradient that read sin at the wrong half would pass with HF's tables.
TEST(RotaryKernel, MatchesForArbitraryTables) {
  torch::manual_seed(19);
  const auto x = torch::randn({2, 7, 3, 12}).transpose(1, 2);
  const auto cos = torch::randn({2, 1, 7, 8}), sin = torch::randn({2, 1, 7, 8});
  const auto w = torch::randn({2, 3, 7, 12});
  auto x_plain = x.clone().requires_grad_(true), x_kernel = x.clone().requires_grad_(true);
  ASSERT_TRUE(rotary_kernel_applies(x_kernel, cos, sin));
  const auto plain = rotary_plain(x_plain, cos, sin);
  const auto kernel = rotary_float32(x_kernel, cos, sin);
  EXPECT_TRUE(torch::equal(kernel, plain)) << (kernel - plain).abs().max().item<double>();
  const auto grad_plain = torch::autograd::grad({(plain * w).sum()}, {x_plain})[0];
  const auto grad_kernel = torch::autograd::grad({(kernel * w).sum()}, {x_kernel})[0];
  EXPECT_TRUE(torch::equal(grad_kernel, grad_plain)) << (grad_kernel - grad_plain).abs().max().item<double>();
}

TEST(RotaryKernel, OtherDtypesAndShapesKeepThePlainExpression) {
  const auto rope = rotary_tables(torch::arange(5).view({1, 5}), 8, 10000.0, torch::kFloat32);
  const auto x = torch::randn({1, 2, 5, 8});
  EXPECT_TRUE(rotary_kernel_applies(x, rope.cos_B1TH, rope.sin_B1TH));
  EXPECT_FALSE(rotary_kernel_applies(x.to(torch::kFloat64), rope.cos_B1TH, rope.sin_B1TH));
  EXPECT_FALSE(rotary_kernel_applies(x.narrow(2, 0, 4), rope.cos_B1TH, rope.sin_B1TH));  // tables for 5 positions
  EXPECT_FALSE(rotary_kernel_applies(x.transpose(2, 3), rope.cos_B1TH, rope.sin_B1TH));  // strided channels
  const auto bf16 = rotary_tables(torch::arange(5).view({1, 5}), 8, 10000.0, torch::kBFloat16);
  const auto x16 = x.to(torch::kBFloat16);
  EXPECT_FALSE(rotary_kernel_applies(x16, bf16.cos_B1TH, bf16.sin_B1TH));
  EXPECT_TRUE(torch::equal(apply_rotary(x16, bf16), rotary_plain(x16, bf16.cos_B1TH, bf16.sin_B1TH)));
}
